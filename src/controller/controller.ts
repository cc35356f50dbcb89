// The controller: informers feed Service keys into the work queue; a worker reconciles each
// key; a resync re-reads GCP and re-enqueues every managed Service. Only the leader works, and
// only once every informer has listed successfully: a cache that failed to list (403, 429, 5xx)
// would hide an owner (a BackendConfig) and make hcsync write on a guess. Every write port is
// fenced on leadership (fence.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/flags.js';
import { ClusterState } from '../kube/cluster-state.js';
import { ServiceStatusWriter } from '../kube/status-writer.js';
import { KubeEventRecorder } from '../kube/event-recorder.js';
import { KubePolicyWriter } from '../kube/policy-writer.js';
import { OPERATION_DEADLINE_MS, type HealthCheckApi } from '../gcp/compute-adapter.js';
import { HealthCheckInventory } from '../gcp/inventory.js';
import { refOfKey } from '../model/kube.js';
import type { EventRecorder, StatusWriter } from '../model/ports.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { RETRY_BACKOFF, errorClassOf, isTerminal, requeueFor, type Outcome } from './outcome.js';
import { ServiceReconciler } from './reconcile.js';
import { WorkQueue } from './workqueue.js';
import { RateLimitedPatcher } from './write-limiter.js';
import { Fence, FencedEventRecorder, FencedPatcher, FencedPolicyWriter, FencedStatusWriter } from './fence.js';
import { PacedPolicyWriter } from './policy-pacing.js';

export interface ControllerDeps {
  readonly kc: KubeConfig;
  readonly config: Config;
  readonly api: HealthCheckApi;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly identity: string;
  readonly status?: StatusWriter;
  readonly events?: EventRecorder;
  /** Asked right before every write (LeaderElector.isLeader); without leader election, always true. */
  readonly isLeader?: () => boolean;
  /** How long stop() lets in-flight reconciles finish before abandoning their waits (default 10 s). */
  readonly stopBudgetMs?: number;
}

/** A backend GKE has not created yet is looked for again this soon (and GCP re-listed at most this often). */
const NOT_READY_REQUEUE_MS = 15_000;
/** HealthCheckPolicy writes at most 10 per second (policy-pacing.ts). */
const POLICY_WRITE_INTERVAL_MS = 100;
/** How often start-up looks whether the caches synced, and how often it says which have not. */
const SYNC_POLL_MS = 100;
const SYNC_REPORT_MS = 30_000;
/**
 * Patches in flight at most: --gcp-write-qps × the Operation deadline, so the bound never slows the
 * pace while Operations finish within the deadline (25 qps × 20 s = 500), within [10, 2000].
 */
export function maxPatchesInFlight(gcpWriteQps: number): number {
  return Math.min(2000, Math.max(10, Math.ceil((gcpWriteQps * OPERATION_DEADLINE_MS) / 1000)));
}

/**
 * What the controller is doing right now, in words; undefined when it has nothing to do: no Service
 * queued or being reconciled, no patch in flight (reserved, waiting for a slot or the write pace, or
 * awaiting its Operation: patches-in-flight.ts) and no GCP list under way. Work due later is not work
 * now (a delayed requeue, a re-verify due in 10 s, a coalesced re-list waiting out its interval or a
 * failure's backoff): once due it is queued or listing, and counted then; counting it would hold off
 * an idle replica for minutes (a BackendConfig grace is 2 min, a failed list's backoff up to --resync).
 * For cli/memory-trim.ts: a trim pauses the event loop 0.3–1.5 s, and must not delay work.
 */
export function controllerWork(
  queue: { readonly active: number },
  reconciler: { readonly patchesInFlight: number },
  inventory: { readonly listing: boolean },
): string | undefined {
  const work: string[] = [];
  if (queue.active > 0) work.push(`${queue.active} Services queued or reconciling`);
  if (reconciler.patchesInFlight > 0) work.push(`${reconciler.patchesInFlight} health check patches in flight`);
  if (inventory.listing) work.push('listing GCP');
  return work.length > 0 ? work.join(', ') : undefined;
}

/**
 * What stop() waits for in-flight reconciles and Operations before abandoning their waits. With the
 * Lease release after it, shutdown stays well inside terminationGracePeriodSeconds (30 s).
 */
const STOP_BUDGET_MS = 10_000;

/**
 * The manager of one hcsync process: caches on every replica, the work queue and resync on the
 * leader, and the wiring of reconcile to its adapters (status, Events, rate-limited patches).
 */
export class Controller {
  readonly cluster: ClusterState;
  readonly inventory: HealthCheckInventory;
  private readonly queue: WorkQueue<Outcome>;
  private readonly fence: Fence;
  private readonly limiter: RateLimitedPatcher;
  private readonly reconciler: ServiceReconciler;
  private resyncTimer: NodeJS.Timeout | undefined;
  private working = false;
  private stopped = false;

  constructor(private readonly deps: ControllerDeps) {
    const { kc, config, api, metrics, log } = deps;
    this.inventory = new HealthCheckInventory(api, { minRefreshIntervalMs: NOT_READY_REQUEUE_MS, maxFailureBackoffMs: config.resyncMs });
    // Events reach the queue only once this replica works (leads); the queue exists by then.
    this.cluster = new ClusterState(kc, config.namespaces, log, (keys) => {
      if (!this.working) return;
      for (const k of keys) this.queue.add(k);
    });
    this.fence = new Fence(deps.isLeader ?? (() => true));
    // The fence sits inside the limiter: leadership is checked when the patch leaves the queue, not when it joined it.
    this.limiter = new RateLimitedPatcher(new FencedPatcher(api, this.fence), config.gcpWriteQps, {
      onPause: (ms, error) => log.warn('GCP rate-limited a write; pausing all writes', { pause_ms: ms, error: error.message }),
    });
    const reconciler = (this.reconciler = new ServiceReconciler({
      view: this.cluster,
      backends: this.inventory,
      patcher: this.limiter,
      // The watch event echoing hcsync's own condition write is not reconciled again (ClusterState.ownStatusWritten).
      status: new FencedStatusWriter(
        deps.status ?? new ServiceStatusWriter(kc, (svc, rv) => this.cluster.ownStatusWritten(svc, rv)),
        this.fence,
      ),
      events: new FencedEventRecorder(deps.events ?? new KubeEventRecorder(kc, deps.identity), this.fence),
      // GKE Gateway backends: hcsync's HealthCheckPolicy, fenced like every other write.
      policies: new PacedPolicyWriter(new FencedPolicyWriter(new KubePolicyWriter(kc), this.fence), POLICY_WRITE_INTERVAL_MS),
      metrics,
      log,
      mode: config.mode,
      inferFromLiveness: config.inferFromLiveness,
      allowServiceEnforce: config.allowServiceEnforce,
      notReadyRequeueMs: NOT_READY_REQUEUE_MS,
      maxPatchesInFlight: maxPatchesInFlight(config.gcpWriteQps),
      // A settled Operation brings its Service (and those sharing the check) back to report it.
      onPatchSettled: (keys, urgent) => {
        if (!this.working) return;
        for (const k of keys) this.queue.add(k, urgent);
      },
    }));
    this.queue = new WorkQueue<Outcome>(
      async (key) => {
        const end = metrics.reconcileDuration.startTimer();
        const outcome = await reconciler.reconcile(key);
        end();
        metrics.reconcileTotal.inc({
          result: outcome.kind === 'error' ? 'error' : outcome.kind === 'requeueAfter' ? 'requeue' : 'success',
        });
        if (outcome.kind === 'error') {
          const { namespace, name } = refOfKey(key);
          const terminal = isTerminal(outcome.error);
          log.warn(
            terminal
              ? 'reconcile failed; not retried until the Service, its Pods or the check change'
              : 'reconcile failed; retrying with backoff',
            {
              namespace,
              service: name,
              error_class: errorClassOf(outcome.error),
              error: outcome.error.message,
            },
          );
        }
        return outcome;
      },
      {
        concurrency: config.concurrency,
        decide: requeueFor,
        onThrow: RETRY_BACKOFF,
        onDepth: (d) => metrics.workqueueDepth.set(d),
        onRetry: () => metrics.workqueueRetries.inc(),
      },
    );
  }

  /** What this replica's controller is doing right now (controllerWork); undefined when it has nothing to do. */
  busyWith(): string | undefined {
    return controllerWork(this.queue, this.reconciler, this.inventory);
  }

  /** Starts the informers (every replica, so a standby takes over with warm caches). */
  async startWatching(): Promise<void> {
    await this.cluster.start();
  }

  /**
   * Resolves true once every informer has listed successfully (a missing BackendConfig CRD counts
   * as listed-empty), false if stop() came first. Says every 30 s which informers are not synced.
   */
  async waitForCacheSync(): Promise<boolean> {
    let reportAt = performance.now() + SYNC_REPORT_MS;
    while (!this.stopped && !this.cluster.hasSynced()) {
      if (performance.now() >= reportAt) {
        this.deps.log.warn('informer caches not synced; holding all reconciles', { not_synced: this.cluster.notSynced() });
        reportAt = performance.now() + SYNC_REPORT_MS;
      }
      await new Promise((r) => setTimeout(r, SYNC_POLL_MS));
    }
    return !this.stopped;
  }

  /** Starts reconciling (the leader only), once the caches have synced; nothing is reconciled before. */
  async startWorking(): Promise<void> {
    if (!(await this.waitForCacheSync())) return;
    // A new term assesses every Service in full (reconcile.ts: passes are reused within one term only).
    this.reconciler.forgetSettledPasses();
    this.working = true;
    await this.resync();
  }

  /** stop() may run during resync's `await`s: read the flag through a call, which TS does not narrow. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /**
   * This replica stopped leading: no write leaves it from now on. Writes waiting in the limiter
   * are dropped, Operation waits abandoned, and every later write is refused by the fence.
   */
  stepDown(why: string): void {
    this.working = false;
    this.reconciler.forgetSettledPasses();
    this.fence.close(why);
    this.limiter.dropQueued(why);
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.inventory.refresh();
      this.deps.metrics.lastGcpResync.set(this.inventory.lastRefresh / 1000);
      const size = this.inventory.size;
      this.deps.log.debug('GCP inventory refreshed', { backend_services: size.backendServices, health_checks: size.healthChecks });
    } catch (err) {
      this.deps.log.warn('reading health checks from GCP failed; will retry at the next resync', { error: (err as Error).message });
    }
    for (const k of this.cluster.managedServiceKeys()) this.queue.add(k);
    if (!this.isStopped()) {
      this.resyncTimer = setTimeout(() => void this.resync(), this.deps.config.resyncMs);
      this.resyncTimer.unref();
    }
  }

  /** For /readyz: informer caches synced (else which are not, and why) and, on the leader, GCP read once. */
  ready(): { ok: boolean; why?: string } {
    if (!this.cluster.hasSynced()) return { ok: false, why: `informer caches not synced: ${this.cluster.notSynced().join('; ')}` };
    if (this.working && this.inventory.lastRefresh < 0) return { ok: false, why: 'GCP health checks not read yet' };
    return { ok: true };
  }

  /**
   * Stops taking work. Patches still waiting in the write limiter are dropped (the next leader
   * sends them); in-flight reconciles and the Operations of patches already sent get stopBudgetMs
   * to finish (a Service whose Operation settles meanwhile is reported once more), then the waits
   * are abandoned (the Operation itself goes on in GCP; the next leader sees its result).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.working = false;
    clearTimeout(this.resyncTimer);
    this.limiter.dropQueued('shutting down');
    this.reconciler.holdSettled();
    const drained = this.queue.shutdown().then(() => this.reconciler.drain());
    const budget = new Promise<'late'>((r) => setTimeout(() => r('late'), this.deps.stopBudgetMs ?? STOP_BUDGET_MS).unref());
    if ((await Promise.race([drained, budget])) === 'late') {
      this.deps.log.warn('in-flight reconciles did not finish in time; abandoning their waits', {});
      this.fence.close('shutting down');
      await drained;
    }
    await this.cluster.stop();
  }
}
