// The only place hcsync talks to the Compute API. Reads are lists (one aggregatedList per kind
// per resync, or when a backend is not seen yet), plus one GET of a check hcsync just patched, to
// re-verify it (docs/gke-ingress-healthchecks.md §5.7). Writes are JSON merge patches of owned
// fields only, awaited through their Operation.
import type { protos } from '@google-cloud/compute';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields, Scope } from '../model/health-check.js';
import { GLOBAL_SCOPE, protocolBlockFor } from '../model/health-check.js';
import { isInstanceGroupBackendName, isNegBackendName } from '../model/ingress-gce-names.js';
import { refOfKey } from '../model/kube.js';
import type { HealthCheckPatcher, PatchTarget } from '../model/ports.js';
import type { ComputeClients } from './clients.js';
import { GcpError, OperationTimeoutError, classify, httpStatusOf } from './errors.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IOperation = protos.google.cloud.compute.v1.IOperation;

/** The Compute calls hcsync makes; patchHealthCheck merge-patches the protocol block / top level and waits for the Operation. */
export interface HealthCheckApi extends HealthCheckPatcher {
  listBackendServices(): Promise<BackendServiceRef[]>;
  listHealthChecks(): Promise<LiveHealthCheck[]>;
  /** One check by name (a GET); undefined on 404. Only for re-verifying a check hcsync just patched. */
  getHealthCheck(name: string, scope: Scope): Promise<LiveHealthCheck | undefined>;
}

export type RequestObserver = (method: string, code: number, seconds: number) => void;

/** `…/projects/p/global/healthChecks/n` or `…/regions/r/healthChecks/n` (any API version). */
function parseResourceLink(link: string): { name: string; scope: Scope } | undefined {
  const m = /\/(global|regions\/([^/]+))\/[A-Za-z]+\/([^/?]+)$/.exec(link);
  if (!m?.[3]) return undefined;
  return { name: m[3], scope: scopeIn(m[2]) };
}

function scopeOfAggregatedKey(key: string): Scope {
  return scopeIn(key.startsWith('regions/') ? key.slice('regions/'.length) : undefined);
}

/** One scope object per region (GCP has a few dozen), so the inventory's checks and backends share them rather than hold one each. */
const regionScopes = new Map<string, Scope>();
function scopeIn(region: string | undefined): Scope {
  if (region === undefined) return GLOBAL_SCOPE;
  let s = regionScopes.get(region);
  if (!s) {
    s = Object.freeze({ kind: 'region', region });
    if (regionScopes.size < 256) regionScopes.set(region, s);
  }
  return s;
}

/**
 * An int32 field as a number: gax's decoding gives numbers, list pages are read as the API's JSON
 * (clients.ts decodeListPagesAsJson), where proto3 JSON allows a number to be quoted.
 */
function int(v: number | string | null | undefined, absent: number): number {
  return v === undefined || v === null || v === '' ? absent : Number(v);
}

function toLiveHealthCheck(hc: IHealthCheck, scope: Scope): LiveHealthCheck {
  const type = hc.type ?? '';
  const blockName = protocolBlockFor(type);
  const block = blockName ? hc[blockName] : undefined;
  return {
    name: hc.name ?? '',
    scope,
    id: String(hc.id ?? ''),
    type,
    checkIntervalSec: int(hc.checkIntervalSec, 5),
    timeoutSec: int(hc.timeoutSec, 5),
    ...(block
      ? {
          block: {
            requestPath: block.requestPath || '/',
            host: block.host ?? '',
            ...(block.portSpecification ? { portSpecification: block.portSpecification } : {}),
            ...(block.port ? { port: int(block.port, 0) } : {}),
          },
        }
      : {}),
  };
}

function toBackendServiceRef(bs: IBackendService, scope: Scope): BackendServiceRef {
  const link = bs.healthChecks?.[0];
  const linked = link ? parseResourceLink(link) : undefined;
  const name = bs.name ?? '';
  // ingress-gce names a backend service's check as the backend service: hold that one string, not a copy cut from the link.
  const healthCheck = linked?.name === name ? { name, scope: linked.scope } : linked;
  let service: BackendServiceRef['service'];
  try {
    const d = JSON.parse(bs.description ?? '') as Record<string, unknown>;
    const svc = d['kubernetes.io/service-name'];
    const port = d['kubernetes.io/service-port'];
    if (typeof svc === 'string' && svc.includes('/') && (typeof port === 'string' || typeof port === 'number')) {
      service = { ...refOfKey(svc), port: String(port) };
    }
  } catch {
    // Not made by ingress-gce (or an old description): found through the Ingress annotation only.
  }
  const groups = (bs.backends ?? []).map((b) => b.group ?? '');
  const backendKind = groups.some((g) => g.includes('/networkEndpointGroups/'))
    ? 'neg'
    : groups.some((g) => g.includes('/instanceGroups/')) || isInstanceGroupBackendName(name)
      ? 'ig'
      : isNegBackendName(name)
        ? 'neg'
        : 'unknown';
  return { name, scope, ...(healthCheck ? { healthCheck } : {}), ...(service ? { service } : {}), backendKind };
}

const PAGE_SIZE = 500;
/**
 * How long a patch waits for its Operation. compute's operations.wait itself returns after ~2 min
 * at most; a health-check patch is normally DONE in seconds. The wait no longer holds a reconcile
 * worker (controller/patches-in-flight.ts), but the bound keeps shutdown (which lets in-flight
 * Operations finish) well inside terminationGracePeriodSeconds (30 s) and sizes the in-flight
 * bound. An Operation still running then is not an error GCP made: the patch rejects with
 * OperationTimeoutError, and the next reconcile re-reads the check before any re-patch.
 */
export const OPERATION_DEADLINE_MS = 20_000;

export class ComputeAdapter implements HealthCheckApi {
  constructor(
    private readonly clients: ComputeClients,
    private readonly project: string,
    private readonly observe: RequestObserver = () => undefined,
    private readonly operationDeadlineMs = OPERATION_DEADLINE_MS,
  ) {}

  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      const result = await fn();
      this.observe(method, 200, Number(process.hrtime.bigint() - start) / 1e9);
      return result;
    } catch (err) {
      this.observe(method, httpStatusOf(err) ?? 0, Number(process.hrtime.bigint() - start) / 1e9);
      throw classify(err);
    }
  }

  async listBackendServices(): Promise<BackendServiceRef[]> {
    return this.call('backendServices.aggregatedList', async () => {
      const out: BackendServiceRef[] = [];
      for await (const [key, scoped] of this.clients.backendServices.aggregatedListAsync(
        { project: this.project, maxResults: PAGE_SIZE },
        { autoPaginate: false },
      )) {
        for (const bs of scoped.backendServices ?? []) out.push(toBackendServiceRef(bs, scopeOfAggregatedKey(key)));
      }
      return out;
    });
  }

  async listHealthChecks(): Promise<LiveHealthCheck[]> {
    return this.call('healthChecks.aggregatedList', async () => {
      const out: LiveHealthCheck[] = [];
      for await (const [key, scoped] of this.clients.healthChecks.aggregatedListAsync(
        { project: this.project, maxResults: PAGE_SIZE },
        { autoPaginate: false },
      )) {
        for (const hc of scoped.healthChecks ?? []) out.push(toLiveHealthCheck(hc, scopeOfAggregatedKey(key)));
      }
      return out;
    });
  }

  async getHealthCheck(name: string, scope: Scope): Promise<LiveHealthCheck | undefined> {
    try {
      const [hc] =
        scope.kind === 'global'
          ? await this.call('healthChecks.get', () => this.clients.healthChecks.get({ project: this.project, healthCheck: name }))
          : await this.call('regionHealthChecks.get', () =>
              this.clients.regionHealthChecks.get({ project: this.project, region: scope.region, healthCheck: name }),
            );
      return toLiveHealthCheck(hc, scope);
    } catch (err) {
      if (err instanceof GcpError && err.errorClass === 'not_found') return undefined;
      throw err;
    }
  }

  async patchHealthCheck(target: PatchTarget, fields: OwnedFields, requestId: string): Promise<void> {
    const blockName = protocolBlockFor(target.type);
    if (!blockName)
      throw new GcpError(
        'invalid',
        undefined,
        `health check ${target.name} is of type ${target.type}; hcsync patches HTTP, HTTPS and HTTP2 checks only`,
      );
    const block: Record<string, string> = {};
    if (fields.requestPath !== undefined) block['requestPath'] = fields.requestPath;
    if (fields.host !== undefined) block['host'] = fields.host;
    const resource: IHealthCheck = {
      ...(Object.keys(block).length > 0 ? { [blockName]: block } : {}),
      ...(fields.checkIntervalSec !== undefined ? { checkIntervalSec: fields.checkIntervalSec } : {}),
      ...(fields.timeoutSec !== undefined ? { timeoutSec: fields.timeoutSec } : {}),
    };
    const scope = target.scope;
    const operation =
      scope.kind === 'global'
        ? (
            await this.call('healthChecks.patch', () =>
              this.clients.healthChecks.patch({
                project: this.project,
                healthCheck: target.name,
                healthCheckResource: resource,
                requestId,
              }),
            )
          )[0]
        : (
            await this.call('regionHealthChecks.patch', () =>
              this.clients.regionHealthChecks.patch({
                project: this.project,
                region: scope.region,
                healthCheck: target.name,
                healthCheckResource: resource,
                requestId,
              }),
            )
          )[0];
    const latest = (operation as { latestResponse?: IOperation }).latestResponse;
    await this.waitForOperation(latest, scope, target.name);
  }

  private async waitForOperation(op: IOperation | undefined, scope: Scope, target: string): Promise<void> {
    const deadline = Date.now() + this.operationDeadlineMs;
    const late = () =>
      new OperationTimeoutError(
        `operation ${current?.name ?? ''} on ${target} did not finish within ${this.operationDeadlineMs / 1000} s; checked again later`,
      );
    let current = op;
    while (current && current.status !== 'DONE') {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw late();
      const name = current.name ?? '';
      // Each wait call is bounded by what is left of the deadline (gax's per-call timeout).
      const options = { timeout: Math.max(1, remaining) };
      try {
        current =
          scope.kind === 'global'
            ? (
                await this.call('globalOperations.wait', () =>
                  this.clients.globalOperations.wait({ project: this.project, operation: name }, options),
                )
              )[0]
            : (
                await this.call('regionOperations.wait', () =>
                  this.clients.regionOperations.wait({ project: this.project, region: scope.region, operation: name }, options),
                )
              )[0];
      } catch (err) {
        if (Date.now() >= deadline) throw late();
        throw err;
      }
    }
    // DONE does not mean success: the Operation carries the error (kubernetes/kubernetes#4938).
    const errors = current?.error?.errors ?? [];
    if (errors.length > 0 || (current?.httpErrorStatusCode ?? 0) >= 400) {
      const message =
        errors.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`.trim()).join('; ') || current?.httpErrorMessage || 'operation failed';
      throw classify({
        httpStatusCode: current?.httpErrorStatusCode ?? 400,
        // The Operation's error code (e.g. QUOTA_EXCEEDED, RATE_LIMIT_EXCEEDED) is what says "rate limited".
        reason: errors.map((e) => e.code ?? '').join(' '),
        message: `operation ${current?.name ?? ''} on ${target}: ${message}`,
      });
    }
  }
}
