// What GCP has, read by two aggregatedList calls per resync and kept in memory, so reconciles
// never GET per Service. Only ingress-gce's backend services and the checks they link are kept:
// memory follows the cluster's Ingress backends, not everything in the project.
import type { BackendServiceRef, IngressScope, LiveHealthCheck, OwnedFields, Scope } from '../model/health-check.js';
import { scopeKey } from '../model/health-check.js';
import { isIngressGceBackendName } from '../model/ingress-gce-names.js';
import type { BackendLookup } from '../model/ports.js';
import type { HealthCheckApi } from './compute-adapter.js';

export interface InventoryOptions {
  /** refreshIfDue() re-lists at most this often (a backend not seen yet asks for one). */
  readonly minRefreshIntervalMs: number;
  readonly now?: () => number;
}

export class HealthCheckInventory implements BackendLookup {
  private backendsByName = new Map<string, BackendServiceRef[]>();
  private checks = new Map<string, LiveHealthCheck>();
  private lastRefreshAt = -Infinity;
  private inFlight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly api: HealthCheckApi,
    private readonly opts: InventoryOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get lastRefresh(): number {
    return this.lastRefreshAt;
  }

  get size(): { backendServices: number; healthChecks: number } {
    let n = 0;
    for (const list of this.backendsByName.values()) n += list.length;
    return { backendServices: n, healthChecks: this.checks.size };
  }

  /** Re-reads everything; concurrent callers share one refresh. */
  refresh(): Promise<void> {
    this.inFlight ??= this.doRefresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async doRefresh(): Promise<void> {
    const [backends, checks] = await Promise.all([this.api.listBackendServices(), this.api.listHealthChecks()]);
    const byName = new Map<string, BackendServiceRef[]>();
    const linked = new Set<string>();
    for (const bs of backends) {
      if (!isIngressGceBackendName(bs.name) && !bs.service) continue;
      byName.set(bs.name, [...(byName.get(bs.name) ?? []), bs]);
      if (bs.healthCheck) linked.add(checkKey(bs.healthCheck.name, bs.healthCheck.scope));
    }
    const checkMap = new Map<string, LiveHealthCheck>();
    for (const hc of checks) {
      const key = checkKey(hc.name, hc.scope);
      if (linked.has(key)) checkMap.set(key, hc);
    }
    this.backendsByName = byName;
    this.checks = checkMap;
    this.lastRefreshAt = this.now();
  }

  /** Re-lists unless the last list is more recent than minRefreshIntervalMs; true when it re-listed. */
  async refreshIfDue(): Promise<boolean> {
    if (this.now() - this.lastRefreshAt < this.opts.minRefreshIntervalMs) return false;
    await this.refresh();
    return true;
  }

  /** The backend service named in an Ingress's `ingress.kubernetes.io/backends`, preferring the expected scope; undefined when not seen. */
  backendService(name: string, scope: IngressScope): BackendServiceRef | undefined {
    const all = this.backendsByName.get(name) ?? [];
    return all.find((b) => (scope === 'global') === (b.scope.kind === 'global')) ?? all[0];
  }

  healthCheck(name: string, scope: Scope): LiveHealthCheck | undefined {
    return this.checks.get(checkKey(name, scope));
  }

  /** Records a successful patch, so the next reconcile sees what GCP now has. */
  recordPatch(name: string, scope: Scope, fields: OwnedFields): void {
    const key = checkKey(name, scope);
    const hc = this.checks.get(key);
    if (!hc) return;
    const block = hc.block ? { ...hc.block } : { requestPath: '/', host: '' };
    if (fields.requestPath !== undefined) block.requestPath = fields.requestPath;
    if (fields.host !== undefined) block.host = fields.host;
    this.checks.set(key, {
      ...hc,
      block,
      checkIntervalSec: fields.checkIntervalSec ?? hc.checkIntervalSec,
      timeoutSec: fields.timeoutSec ?? hc.timeoutSec,
    });
  }

  /** The check was gone (404): forget it until the next list shows it again. */
  forgetHealthCheck(name: string, scope: Scope): void {
    this.checks.delete(checkKey(name, scope));
  }
}

function checkKey(name: string, scope: Scope): string {
  return `${scopeKey(scope)}/${name}`;
}
