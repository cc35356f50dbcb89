// The controller: informers feed Service keys into the work queue; a worker reconciles each
// key; a resync re-reads GCP and re-enqueues every managed Service. Only the leader works.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/flags.js';
import { ClusterState } from '../kube/cluster-state.js';
import { ServiceStatusWriter } from '../kube/status-writer.js';
import { KubeEventRecorder } from '../kube/event-recorder.js';
import type { HealthCheckApi } from '../gcp/compute-adapter.js';
import { HealthCheckInventory } from '../gcp/inventory.js';
import { refOfKey } from '../model/kube.js';
import type { EventRecorder, StatusWriter } from '../model/ports.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { RETRY_BACKOFF, errorClassOf, isTerminal, requeueFor, type Outcome } from './outcome.js';
import { ServiceReconciler } from './reconcile.js';
import { WorkQueue } from './workqueue.js';
import { RateLimitedPatcher } from './write-limiter.js';

export interface ControllerDeps {
  readonly kc: KubeConfig;
  readonly config: Config;
  readonly api: HealthCheckApi;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly identity: string;
  readonly status?: StatusWriter;
  readonly events?: EventRecorder;
}

/** A backend GKE has not created yet is looked for again this soon (and GCP re-listed at most this often). */
const NOT_READY_REQUEUE_MS = 15_000;

/**
 * The manager of one hcsync process: caches on every replica, the work queue and resync on the
 * leader, and the wiring of reconcile to its adapters (status, Events, rate-limited patches).
 */
export class Controller {
  readonly cluster: ClusterState;
  readonly inventory: HealthCheckInventory;
  private readonly queue: WorkQueue<Outcome>;
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
    const reconciler = new ServiceReconciler({
      view: this.cluster,
      backends: this.inventory,
      patcher: new RateLimitedPatcher(api, config.gcpWriteQps),
      status: deps.status ?? new ServiceStatusWriter(kc),
      events: deps.events ?? new KubeEventRecorder(kc, deps.identity),
      metrics,
      log,
      mode: config.mode,
      inferFromLiveness: config.inferFromLiveness,
      allowServiceEnforce: config.allowServiceEnforce,
      notReadyRequeueMs: NOT_READY_REQUEUE_MS,
    });
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

  /** Starts the informers (every replica, so a standby takes over with warm caches). */
  async startWatching(): Promise<void> {
    await this.cluster.start();
  }

  /** Starts reconciling: the leader only. */
  async startWorking(): Promise<void> {
    this.working = true;
    await this.resync();
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
    if (!this.stopped) {
      this.resyncTimer = setTimeout(() => void this.resync(), this.deps.config.resyncMs);
      this.resyncTimer.unref();
    }
  }

  /** For /readyz: informer caches synced and, on the leader, GCP read once. */
  ready(): { ok: boolean; why?: string } {
    if (!this.cluster.hasSynced()) return { ok: false, why: 'informer caches not synced' };
    if (this.working && this.inventory.lastRefresh < 0) return { ok: false, why: 'GCP health checks not read yet' };
    return { ok: true };
  }

  /** Stops taking work and lets in-flight reconciles (and their patches) finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.working = false;
    clearTimeout(this.resyncTimer);
    await this.queue.shutdown();
    await this.cluster.stop();
  }
}
