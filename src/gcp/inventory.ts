// What GCP has, read by two aggregatedList calls per resync and kept in memory, so reconciles
// never GET per Service. Only ingress-gce's backend services and the checks they link are kept:
// memory follows the cluster's Ingress backends, not everything in the project.
//
// Five rules keep the inventory honest and its re-lists bounded:
// - A list that started before one of hcsync's patches completed cannot overwrite what that
//   patch set (it may have been read before the patch landed): the patched fields win until a
//   list or GET that started after the patch shows the check.
// - An on-demand re-list (a backend or check not seen) is granted at most once per
//   minRefreshIntervalMs, shared by every caller; a 404 on a patch arms one re-list for that
//   check that skips the interval (GKE recreates the check, docs/gke-ingress-healthchecks.md §5.6).
// - Names still missing after a re-list are negatively cached until the next scheduled re-list.
// - A failed list is retried on demand only after an exponential backoff (15 s … maxFailureBackoffMs).
// - A re-list (or GET) keeps the object it already had for a check or backend service whose data
//   is the same (lib/json-equal.ts, every field, so fields added later count too): reconcile
//   recognises an unchanged input by identity (controller/pass-reads.ts), and the old-space copies
//   a resync would otherwise replace are not garbage.
// Re-verifies of patched checks (docs/gke-ingress-healthchecks.md §5.7) ride on lists too when many
// are due (relistSince): one coalesced list under the same interval and backoff, not a GET each.
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonEqual } from '../lib/json-equal.js';
import type { BackendServiceRef, IngressScope, LiveHealthCheck, OwnedFields, Scope } from '../model/health-check.js';
import { scopeKey } from '../model/health-check.js';
import { isIngressGceBackendName } from '../model/ingress-gce-names.js';
import { gatewayNameServes, isGatewayBackendName } from '../model/gke-gateway-names.js';
import type { BackendLookup, WantedFromGcp } from '../model/ports.js';
import { backoffDelay, type BackoffSchedule } from '../lib/backoff.js';
import type { HealthCheckApi } from './compute-adapter.js';
import { GcpError, classify } from './errors.js';

export interface InventoryOptions {
  /** refreshIfDue() re-lists at most this often (a backend not seen yet asks for one). */
  readonly minRefreshIntervalMs: number;
  /** The longest wait before a failed list is retried on demand (--resync; default 5 min). */
  readonly maxFailureBackoffMs?: number;
  readonly now?: () => number;
}

/** A completed patch of hcsync's: what it set, on which check, at which point of the inventory's clock. */
interface PatchRecord {
  readonly id: string;
  readonly fields: OwnedFields;
  readonly seq: number;
}

/** Negative-cache and pending-name bound: far above any real cluster's Ingress backends. */
const NAME_LIMIT = 50_000;

export class HealthCheckInventory implements BackendLookup {
  /** Backend services by name: one as is, more (the same name in several scopes) as an array. */
  private backendsByName = new Map<string, BackendServiceRef | readonly BackendServiceRef[]>();
  private checks = new ChecksByScope();
  private lastRefreshAt = -Infinity;
  private inFlight: Promise<void> | undefined;
  /** When the list in flight started, and the latest start of a completed list (the inventory's clock, ms). */
  private inFlightFrom = -Infinity;
  private listedFrom = -Infinity;
  /** The coalesced list relistSince() callers share, waiting for the interval (or a failure's backoff) to pass. */
  private nextList: Promise<void> | undefined;
  private readonly now: () => number;
  /** A logical clock: ticks at the start of each read and at the completion of each patch. */
  private seq = 0;
  private readonly patched = new Map<string, PatchRecord>();
  /** Names (backend services; checks as scope/name) missing from a re-list made or awaited for them. */
  private readonly missing = new Set<string>();
  /** Names asked for while no re-list was granted, with the clock when asked; settled by the next list. */
  private readonly pending = new Map<string, number>();
  /** Checks that answered 404 on a patch: the next re-list asked for them skips the interval once. */
  private readonly forced = new Set<string>();
  private failures = 0;
  private retryAt = -Infinity;
  private lastError: GcpError | undefined;
  private readonly failureBackoff: BackoffSchedule;

  constructor(
    private readonly api: HealthCheckApi,
    private readonly opts: InventoryOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.failureBackoff = {
      baseMs: opts.minRefreshIntervalMs,
      maxMs: Math.max(opts.minRefreshIntervalMs, opts.maxFailureBackoffMs ?? 300_000),
    };
  }

  get lastRefresh(): number {
    return this.lastRefreshAt;
  }

  get size(): { backendServices: number; healthChecks: number } {
    let n = 0;
    for (const b of this.backendsByName.values()) n += isList(b) ? b.length : 1;
    return { backendServices: n, healthChecks: this.checks.size };
  }

  /**
   * The scheduled re-read (every --resync): ignores the failure backoff (it is itself the bounded
   * rate) and ends the negative cache, so a name GCP still lacks gets one more on-demand look.
   * Concurrent callers share one list.
   */
  async refresh(): Promise<void> {
    // Names asked for before this list started and still absent from it are cached missing again by it.
    this.missing.clear();
    await this.relist();
  }

  private relist(): Promise<void> {
    if (!this.inFlight) {
      const from = (this.inFlightFrom = this.now());
      this.inFlight = this.doRefresh()
        .then(() => void (this.listedFrom = Math.max(this.listedFrom, from)))
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    return this.inFlight;
  }

  /** Whether a list of GCP is under way (a resync's, an on-demand or a coalesced re-list); not one waiting for its interval or backoff. */
  get listing(): boolean {
    return this.inFlight !== undefined;
  }

  /** Whether a list that started at or after `since` (the inventory's clock, ms) has completed. */
  listedSince(since: number): boolean {
    return this.listedFrom >= since;
  }

  /**
   * Resolves once a list that started at or after `since` has completed; rejects with that list's
   * error. Re-verifies after patches (docs §5.7) when many are due: every caller shares one list,
   * which starts no sooner than minRefreshIntervalMs after the last list and not while a failed list
   * backs off (a timer waits that out) — at S=5,000, ~3,000 re-verify GETs in the minute after
   * convergence became one list per interval (issue 11).
   */
  relistSince(since: number): Promise<void> {
    if (this.listedSince(since)) return Promise.resolve();
    if (this.inFlight && this.inFlightFrom >= since) return this.inFlight;
    return (this.nextList ??= this.listLater());
  }

  private async listLater(): Promise<void> {
    // Never synchronous: relistSince() stores this promise as `nextList` before the list may start
    // (and clear it), so no caller joins a list that started before it asked.
    await Promise.resolve();
    try {
      for (;;) {
        const wait = Math.max(this.lastRefreshAt + this.opts.minRefreshIntervalMs, this.retryAt) - this.now();
        if (wait > 0) await sleep(wait, undefined, { ref: false });
        // A list under way started too early for these callers: the next one starts after it (and its interval).
        else if (this.inFlight) await this.inFlight.catch(() => undefined);
        else break;
      }
    } finally {
      // From here on, callers join the list starting now (or ask for a later one).
      this.nextList = undefined;
    }
    await this.relist();
  }

  private async doRefresh(): Promise<void> {
    const startSeq = ++this.seq;
    let backends: BackendServiceRef[];
    let checks: LiveHealthCheck[];
    try {
      [backends, checks] = await Promise.all([this.api.listBackendServices(), this.api.listHealthChecks()]);
    } catch (err) {
      this.failures += 1;
      this.lastError = classify(err);
      this.retryAt = this.now() + backoffDelay(this.failureBackoff, this.failures - 1);
      throw this.lastError;
    }
    const byName = new Map<string, BackendServiceRef | readonly BackendServiceRef[]>();
    const linked = new Set<string>();
    for (const read of backends) {
      // ingress-gce's backends, and GKE Gateway's gkegw1-… ones (read only: hcsync writes their policy, never them).
      if (!isIngressGceBackendName(read.name) && !isGatewayBackendName(read.name) && !read.service) continue;
      const bs = this.backendsNamed(read.name).find((b) => jsonEqual(b, read)) ?? read;
      const cur = byName.get(bs.name);
      byName.set(bs.name, cur === undefined ? bs : [...(isList(cur) ? cur : [cur]), bs]);
      if (bs.healthCheck) linked.add(checkKey(bs.healthCheck.name, bs.healthCheck.scope));
    }
    const checkMap = new ChecksByScope();
    for (const hc of checks) {
      const key = checkKey(hc.name, hc.scope);
      if (!linked.has(key)) continue;
      const kept = this.reconcileWithPatches(key, hc, startSeq);
      const before = this.checks.get(hc.name, hc.scope);
      checkMap.set(hc.name, hc.scope, before && jsonEqual(before, kept) ? before : kept);
    }
    // A patch on a check this list no longer links is done with.
    for (const [key, p] of this.patched) if (p.seq < startSeq && !checkMap.hasKey(key)) this.patched.delete(key);
    this.backendsByName = byName;
    this.checks = checkMap;
    this.lastRefreshAt = this.now();
    this.failures = 0;
    this.retryAt = -Infinity;
    this.lastError = undefined;
    this.settlePending(startSeq);
  }

  /**
   * What the inventory keeps of a check read at `startSeq`: the read as is, unless hcsync's own
   * patch of that same check (same id) completed after the read started — then the read may
   * predate the patch, and the patched fields win. A read that started after the patch is the
   * truth (it shows any later hand edit or revert) and ends the patch record.
   */
  private reconcileWithPatches(key: string, read: LiveHealthCheck, startSeq: number): LiveHealthCheck {
    const p = this.patched.get(key);
    if (!p) return read;
    if (p.seq < startSeq || p.id !== read.id) {
      this.patched.delete(key);
      return read;
    }
    return withFields(read, p.fields);
  }

  /** Settles names asked for before the list that started at `startSeq`: still absent → negatively cached. */
  private settlePending(startSeq: number): void {
    for (const [name, askedAt] of this.pending) {
      if (askedAt >= startSeq) continue;
      this.pending.delete(name);
      if (!this.has(name) && this.missing.size < NAME_LIMIT) this.missing.add(name);
    }
  }

  private has(name: string): boolean {
    if (name.startsWith(GATEWAY_PREFIX)) return this.hasGatewayBackend(name.slice(GATEWAY_PREFIX.length));
    return name.startsWith(CHECK_PREFIX) ? this.checks.hasKey(name.slice(CHECK_PREFIX.length)) : this.backendsByName.has(name);
  }

  /** Whether some gkegw1-… backend service can be this `namespace/service/port`'s. */
  private hasGatewayBackend(wanted: string): boolean {
    const [namespace = '', service = '', port = ''] = wanted.split('/');
    return this.gatewayBackendServices().some((b) => gatewayNameServes(b.name, namespace, service, Number(port)));
  }

  /** Every gkegw1-… backend service seen (docs/gke-gateway-healthchecks.md §4). */
  gatewayBackendServices(): BackendServiceRef[] {
    const out: BackendServiceRef[] = [];
    for (const [name, b] of this.backendsByName) if (isGatewayBackendName(name)) out.push(...(isList(b) ? b : [b]));
    return out;
  }

  /**
   * Re-lists for names the inventory lacks, when that can help and is allowed: not for names a
   * re-list already found missing (until the next scheduled one), at most once per
   * minRefreshIntervalMs (unless a check that answered 404 is among them, once), and not while a
   * failed list backs off — then the last failure is thrown again. True when it re-listed.
   */
  async refreshIfDue(wanted: WantedFromGcp): Promise<boolean> {
    const names = [
      ...wanted.backendServices,
      ...wanted.healthChecks.map((c) => CHECK_PREFIX + checkKey(c.name, c.scope)),
      ...(wanted.gatewayBackends ?? []).map((g) => GATEWAY_PREFIX + g),
    ];
    const worth = names.filter((n) => !this.missing.has(n));
    if (worth.length === 0) return false;
    const forced = worth.filter((n) => this.forced.has(n.slice(CHECK_PREFIX.length)));
    if (this.now() < this.retryAt && this.lastError) {
      const waitS = Math.ceil((this.retryAt - this.now()) / 1000);
      throw new GcpError(
        this.lastError.errorClass,
        this.lastError.httpStatus,
        `${this.lastError.message} (listing GCP failed; next on-demand re-list in ${waitS} s)`,
      );
    }
    if (forced.length === 0 && this.now() - this.lastRefreshAt < this.opts.minRefreshIntervalMs) {
      for (const n of worth) if (!this.pending.has(n) && this.pending.size < NAME_LIMIT) this.pending.set(n, this.seq);
      return false;
    }
    for (const n of forced) this.forced.delete(n.slice(CHECK_PREFIX.length));
    // Asked now: a list already under way started earlier and does not settle these names; the next one does.
    for (const n of worth) if (!this.pending.has(n) && this.pending.size < NAME_LIMIT) this.pending.set(n, this.seq);
    if (this.inFlight) {
      // Share the list under way; only a forced name it does not show is worth a list of its own.
      await this.inFlight;
      if (forced.every((n) => this.has(n))) return true;
    }
    await this.relist();
    return true;
  }

  /** The backend service named in an Ingress's `ingress.kubernetes.io/backends`, preferring the expected scope; undefined when not seen. */
  backendService(name: string, scope: IngressScope): BackendServiceRef | undefined {
    const cur = this.backendsByName.get(name);
    if (cur === undefined || !isList(cur)) return cur;
    return cur.find((b) => (scope === 'global') === (b.scope.kind === 'global')) ?? cur[0];
  }

  /** Every backend service of this name (one per scope it exists in). */
  private backendsNamed(name: string): readonly BackendServiceRef[] {
    const cur = this.backendsByName.get(name);
    return cur === undefined ? [] : isList(cur) ? cur : [cur];
  }

  healthCheck(name: string, scope: Scope): LiveHealthCheck | undefined {
    return this.checks.get(name, scope);
  }

  /** Records a successful patch, so the next reconcile sees what GCP now has — and a list that started earlier cannot undo it. */
  recordPatch(name: string, scope: Scope, fields: OwnedFields): void {
    const key = checkKey(name, scope);
    const hc = this.checks.get(name, scope);
    if (!hc) return;
    this.patched.set(key, { id: hc.id, fields, seq: ++this.seq });
    this.checks.set(name, scope, withFields(hc, fields));
  }

  /**
   * Re-reads one check with a GET (a re-verify after a patch, docs §5.7): the answer replaces the
   * inventory's copy under the same rule as a list. Undefined when the check is gone.
   */
  async reread(name: string, scope: Scope): Promise<LiveHealthCheck | undefined> {
    const key = checkKey(name, scope);
    const startSeq = ++this.seq;
    const read = await this.api.getHealthCheck(name, scope);
    if (!read) {
      this.checks.delete(name, scope);
      this.patched.delete(key);
      return undefined;
    }
    // Only checks a backend links are kept; a GET does not change which those are.
    if (
      !this.checks.get(name, scope) &&
      ![...this.backendsByName.values()].some((l) => (isList(l) ? l : [l]).some((b) => linksCheck(b, key)))
    )
      return read;
    const kept = this.reconcileWithPatches(key, read, startSeq);
    const before = this.checks.get(name, scope);
    if (before && jsonEqual(before, kept)) return before;
    this.checks.set(name, scope, kept);
    return kept;
  }

  /** The check was gone (404): forget it, and let the next re-list that asks for it skip the interval once. */
  forgetHealthCheck(name: string, scope: Scope): void {
    const key = checkKey(name, scope);
    this.checks.delete(name, scope);
    this.patched.delete(key);
    this.missing.delete(CHECK_PREFIX + key);
    this.forced.add(key);
  }
}

const CHECK_PREFIX = 'healthCheck:';
/** A wanted Gateway backend, by `namespace/service/port` (its gkegw1 name is GKE's to choose). */
const GATEWAY_PREFIX = 'gateway:';

function checkKey(name: string, scope: Scope): string {
  return `${scopeKey(scope)}/${name}`;
}

const isList = (b: BackendServiceRef | readonly BackendServiceRef[]): b is readonly BackendServiceRef[] => Array.isArray(b);

/**
 * The checks kept, by scope (scopeKey), then name: the names are the checks' own strings, where
 * one Map keyed by `scope/name` held a key string per check (~100 B each, issue 11).
 */
class ChecksByScope {
  private readonly byScope = new Map<string, Map<string, LiveHealthCheck>>();

  get size(): number {
    let n = 0;
    for (const m of this.byScope.values()) n += m.size;
    return n;
  }

  get(name: string, scope: Scope): LiveHealthCheck | undefined {
    return this.byScope.get(scopeKey(scope))?.get(name);
  }

  /** Whether the check of a checkKey (`scope/name`; a check's name has no '/') is kept. */
  hasKey(key: string): boolean {
    const slash = key.lastIndexOf('/');
    return this.byScope.get(key.slice(0, slash))?.has(key.slice(slash + 1)) ?? false;
  }

  set(name: string, scope: Scope, hc: LiveHealthCheck): void {
    const key = scopeKey(scope);
    let byName = this.byScope.get(key);
    if (!byName) this.byScope.set(key, (byName = new Map<string, LiveHealthCheck>()));
    byName.set(name, hc);
  }

  delete(name: string, scope: Scope): void {
    const key = scopeKey(scope);
    const byName = this.byScope.get(key);
    if (byName?.delete(name) && byName.size === 0) this.byScope.delete(key);
  }
}

function linksCheck(b: BackendServiceRef, key: string): boolean {
  return b.healthCheck !== undefined && checkKey(b.healthCheck.name, b.healthCheck.scope) === key;
}

function withFields(hc: LiveHealthCheck, fields: OwnedFields): LiveHealthCheck {
  const block = hc.block ? { ...hc.block } : { requestPath: '/', host: '' };
  if (fields.requestPath !== undefined) block.requestPath = fields.requestPath;
  if (fields.host !== undefined) block.host = fields.host;
  return {
    ...hc,
    block,
    checkIntervalSec: fields.checkIntervalSec ?? hc.checkIntervalSec,
    timeoutSec: fields.timeoutSec ?? hc.timeoutSec,
  };
}
