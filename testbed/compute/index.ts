// Entry point of the Compute REST API stand-in; see the files next to this one for each piece:
// router (URL → API method), api (semantics), store (state), operations, prober, loadbalancer.
import { randomBytes } from 'node:crypto';
import { LoadBalancers } from './loadbalancer.js';
import { Operations } from './operations.js';
import { Prober } from './prober.js';
import { ComputeServer, type InjectedFailure, type RequestRecord } from './server.js';
import { COLLECTIONS } from './collections.js';
import { clone } from './merge-patch.js';
import { allocateId, createStore, getResource, jsonText, putResource, scopeLink, selfLink, type JsonObject } from './store.js';

export { computeClientOptions } from './client-options.js';
export { GFE_502_BODY } from './loadbalancer.js';
export type { InjectedFailure, RequestRecord } from './server.js';

export interface ComputeStandIn {
  readonly endpoint: string; // 'http://127.0.0.1:PORT'
  readonly project: string;
  requestCounts(): Record<string, number>;
  resetCounts(): void;
  injectFailure(method: string, failure: InjectedFailure): void;
  /** The next `times` (default 1) requests of `method` read the state on arrival and answer `ms` later. */
  injectDelay(method: string, ms: number, times?: number): void;
  /** Removes every injected failure and delay that has not fired yet. */
  clearFailures(): void;
  setQuotaPerMinute(limit: number | undefined): void;
  /** Writes per wall-clock second before 403 rateLimitExceeded (reads not counted); undefined: unlimited. */
  setWriteQuotaPerSecond(limit: number | undefined): void;
  /**
   * Puts resources straight into the store, as if created long ago (no Operation, no request
   * logged): a scale benchmark's thousands of checks without thousands of inserts. Fills kind, id,
   * creationTimestamp, selfLink, region/zone and fingerprint like insert does; links are not checked.
   */
  seed(scope: string, collection: string, resources: readonly JsonObject[]): void;
  /** A copy of one stored resource, or undefined (the state, not what a client would be answered). */
  resource(scope: string, collection: string, name: string): JsonObject | undefined;
  loadBalancerAddress(urlMapName: string): string | undefined;
  /**
   * An endpoint of its own for one caller (e.g. one hcsync process): same API and state, but every
   * request through it is logged under that caller's name, so writes can be told apart per process.
   */
  endpointFor(caller: string): Promise<string>;
  /** Every request so far, in arrival order (callers of `endpoint` are 'default'). */
  requestLog(): readonly RequestRecord[];
  /** What became of an Operation: 'done' (effect applied), 'failed', 'running' (not DONE), undefined if unknown. */
  operationOutcome(name: string): 'done' | 'failed' | 'running' | undefined;
  stop(): Promise<void>;
}

export interface ComputeStandInOptions {
  project: string;
  /** Multiplies health check intervals and timeouts; tests use ~0.02. Default 1. */
  timeScale?: number;
  /** Time from a write to its Operation being DONE. Default 50 ms. */
  operationDelayMs?: number;
  /** Requests per minute before 403 rateLimitExceeded; unlimited when unset. See setQuotaPerMinute. */
  quotaPerMinute?: number;
  /** How long operations.wait blocks before answering a not-yet-DONE operation. Default 120 s, like GCE. */
  operationWaitCapMs?: number;
  /** Writes per second before 403 rateLimitExceeded; unlimited when unset. See setWriteQuotaPerSecond. */
  writeQuotaPerSecond?: number;
  /**
   * Run the prober (default true). Its 5 ms tick walks every backend service, so a benchmark with
   * thousands of backend services and no endpoints turns it off to keep the stand-in's CPU low.
   */
  probe?: boolean;
  log?: (line: string) => void;
}

export async function startComputeStandIn(opts: ComputeStandInOptions): Promise<ComputeStandIn> {
  const log = opts.log ?? (() => undefined);
  const store = createStore(opts.project);
  const lbs = new LoadBalancers(store, log);
  const operations = new Operations(store, opts.operationDelayMs ?? 50, log, () => lbs.sync());
  if (opts.operationWaitCapMs !== undefined) operations.waitCapMs = opts.operationWaitCapMs;
  const server = new ComputeServer(store, operations, log);
  if (opts.quotaPerMinute !== undefined) server.setQuotaPerMinute(opts.quotaPerMinute);
  if (opts.writeQuotaPerSecond !== undefined) server.setWriteQuotaPerSecond(opts.writeQuotaPerSecond);
  const prober = new Prober(store, opts.timeScale ?? 1, log);
  const endpoint = await server.listen();
  if (opts.probe ?? true) prober.start();
  log(`compute: stand-in for project ${opts.project} at ${endpoint}`);
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    project: opts.project,
    requestCounts: () => server.requestCounts(),
    resetCounts: () => server.resetCounts(),
    injectFailure: (method, failure) => server.injectFailure(method, failure),
    injectDelay: (method, ms, times) => server.injectDelay(method, ms, times),
    clearFailures: () => server.clearFailures(),
    setQuotaPerMinute: (limit) => server.setQuotaPerMinute(limit),
    setWriteQuotaPerSecond: (limit) => server.setWriteQuotaPerSecond(limit),
    seed: (scope, collection, resources) => {
      const spec = COLLECTIONS[collection];
      if (!spec) throw new Error(`seed: the stand-in has no collection ${collection}`);
      const now = new Date().toISOString();
      for (const r of resources) {
        const name = jsonText(r['name']);
        const resource: JsonObject = {
          kind: spec.kind,
          id: allocateId(store),
          creationTimestamp: now,
          ...spec.normalise(clone(r)),
          name,
          selfLink: selfLink(store, scope, collection, name),
        };
        if (scope.startsWith('regions/')) resource['region'] = scopeLink(store, scope);
        if (scope.startsWith('zones/')) resource['zone'] = scopeLink(store, scope);
        if (spec.fingerprint) resource['fingerprint'] = randomBytes(8).toString('base64');
        putResource(store, scope, collection, resource);
      }
    },
    resource: (scope, collection, name) => {
      const r = getResource(store, scope, collection, name);
      return r ? clone(r) : undefined;
    },
    loadBalancerAddress: (name) => lbs.address(name),
    endpointFor: (caller) => server.listenAs(caller),
    requestLog: () => server.requestLog(),
    operationOutcome: (name) => operations.outcome(name),
    stop: () => {
      stopped ??= (async () => {
        prober.stop();
        operations.stop();
        await Promise.all([server.close(), lbs.stop()]);
      })();
      return stopped;
    },
  };
}
