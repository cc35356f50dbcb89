// Lease-based leader election on coordination.k8s.io/v1, with client-go's semantics
// (k8s.io/client-go/tools/leaderelection), because client-node ships no elector.
//
// - A candidate may take the Lease when it has no holder, when it already holds it, or when the
//   record has not changed for leaseDuration. "Not changed" is measured on this process's own
//   monotonic clock from the moment it first saw the current record (client-go's observedTime),
//   not from the record's renewTime: that way clock skew between nodes cannot make a candidate
//   steal a Lease that is still being renewed.
// - Every write is a replace carrying the resourceVersion that was read, so two candidates that
//   race for the same Lease cannot both win: the API server answers the loser with 409 Conflict.
// - The leader renews every retryPeriod. If no renewal succeeds for renewDeadline it stops leading
//   (and says so through onStoppedLeading) before any other candidate can consider the Lease
//   expired, since renewDeadline < leaseDuration.
// - stop({ release: true }) clears holderIdentity (and shortens leaseDurationSeconds to 1, as
//   client-go's ReleaseOnCancel does), so the other replica takes over on its next retry instead of
//   waiting for the Lease to expire.
import { randomUUID } from 'node:crypto';
import {
  ApiException,
  CoordinationV1Api,
  type KubeConfig,
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type V1Lease,
  type V1LeaseSpec,
} from './client-node.js';
import type { Logger } from '../observability/log.js';

export interface LeaderElectionConfig {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
}

export interface LeaderCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** client-go's JitterFactor: acquire attempts wait retryPeriod × [1, 2.2) so candidates spread out. */
const JITTER_FACTOR = 1.2;

/** An identity unique per process, in the form client-go users conventionally use (host_uuid). */
export function defaultIdentity(): string {
  const host = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'hcsync';
  return `${host}_${randomUUID()}`;
}

/** The part of the Lease record that matters for election, in plain types. */
interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string | undefined;
  renewTime: string | undefined;
  leaseTransitions: number;
}

export class LeaderElector {
  private readonly cfg: LeaderElectionConfig;
  private readonly api: CoordinationV1Api;
  private readonly log: Logger;

  private running = false;
  private stopping = false;
  private leading = false;
  private loop: Promise<void> | undefined;
  private callbacks: LeaderCallbacks | undefined;
  /** Aborts the current sleep and any request in flight when stop() is called. */
  private readonly stopController = new AbortController();

  /** The Lease as last read or written by us; its resourceVersion guards our next write. */
  private observedLease: V1Lease | undefined;
  /** The record last seen and when (monotonic ms) it was first seen in that form. */
  private observedRecordKey = '';
  private observedAtMs = 0;
  /** Monotonic time of our last successful acquire or renew. */
  private lastRenewMs = 0;

  constructor(cfg: LeaderElectionConfig) {
    validate(cfg);
    this.cfg = cfg;
    this.log = cfg.log;
    this.api = cfg.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** Starts the election loop in the background; it runs until stop(). */
  run(callbacks: LeaderCallbacks): void {
    if (this.running) throw new Error('LeaderElector.run called twice');
    if (this.stopping) throw new Error('LeaderElector was stopped');
    this.running = true;
    this.callbacks = callbacks;
    this.loop = this.electionLoop().catch((err: unknown) => {
      // The loop handles its own errors; reaching here is a bug, so fail safe: stop leading.
      this.log.error('leader election loop crashed', { err: errorMessage(err), lease: this.leaseRef() });
      this.stepDown('loop crashed');
    });
  }

  /**
   * True while this process holds the Lease. Also false once renewDeadline has passed since the
   * last successful renewal even if the loop has not noticed yet (e.g. a blocked event loop).
   * This is the check write fencing needs; no writer calls it yet. Today what keeps a deposed
   * leader from writing is onStoppedLeading: `hcsync run` stops its controller and exits. A write
   * already in flight when the Lease is lost still completes.
   */
  isLeader(): boolean {
    return this.leading && monotonicMs() - this.lastRenewMs < this.cfg.renewDeadlineMs;
  }

  /** Stops the loop; with release, hands the Lease over at once if we hold it. */
  async stop(opts: { release: boolean } = { release: false }): Promise<void> {
    if (this.stopping) {
      await this.loop;
      return;
    }
    this.stopping = true;
    this.stopController.abort();
    await this.loop;
    const wasLeading = this.leading;
    this.stepDown('stopped');
    if (opts.release && wasLeading) await this.release();
  }

  // ---------------------------------------------------------------------------------------------

  /** stop() may run during any `await` of the loop: read the flag through a call, which TS does not narrow. */
  private stopRequested(): boolean {
    return this.stopping;
  }

  private async electionLoop(): Promise<void> {
    while (!this.stopRequested()) {
      // Acquire: try until we hold the Lease, waiting a jittered retryPeriod between tries.
      while (!this.stopRequested()) {
        if (await this.tryAcquireOrRenew(this.cfg.renewDeadlineMs)) break;
        await this.sleep(this.cfg.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
      }
      if (this.stopRequested()) return;
      this.leading = true;
      this.log.info('acquired leader lease', { lease: this.leaseRef(), identity: this.cfg.identity });
      this.invoke('onStartedLeading');

      // Renew: every retryPeriod; give up once renewDeadline passes without a success.
      while (!this.stopRequested()) {
        await this.sleep(this.cfg.retryPeriodMs);
        if (this.stopRequested()) return;
        if (!(await this.renewWithinDeadline())) {
          this.log.warn('failed to renew leader lease within the renew deadline; stepping down', {
            lease: this.leaseRef(),
            identity: this.cfg.identity,
            renewDeadlineMs: this.cfg.renewDeadlineMs,
          });
          this.stepDown('renew deadline exceeded');
          break;
        }
      }
    }
  }

  /** Retries the renewal every retryPeriod until one succeeds or renewDeadline has passed. */
  private async renewWithinDeadline(): Promise<boolean> {
    const deadline = this.lastRenewMs + this.cfg.renewDeadlineMs;
    for (;;) {
      const remaining = deadline - monotonicMs();
      if (remaining <= 0 || this.stopping) return false;
      if (await this.tryAcquireOrRenew(remaining)) return true;
      const wait = Math.min(this.cfg.retryPeriodMs, deadline - monotonicMs());
      if (wait > 0) await this.sleep(wait);
    }
  }

  /** One attempt, as client-go's tryAcquireOrRenew. Never throws. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const now = new Date();
    try {
      // Fast path while leading: write over the Lease we last wrote, without reading it first.
      // A 409 means someone else wrote it; fall through to the read-and-decide path.
      if (this.leading && this.observedLease && this.observedHolder() === this.cfg.identity) {
        try {
          await this.writeLease(this.observedLease, this.desiredSpec(now, this.observedRecord()), timeoutMs);
          return true;
        } catch (err) {
          if (this.stopping) return false;
          this.log.debug('optimistic lease renewal failed; re-reading the lease', { err: errorMessage(err), lease: this.leaseRef() });
        }
      }

      let current: V1Lease;
      try {
        current = await this.api.readNamespacedLease(
          { name: this.cfg.name, namespace: this.cfg.namespace },
          this.requestOptions(timeoutMs),
        );
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        const sentAt = monotonicMs();
        const created = await this.api.createNamespacedLease(
          {
            namespace: this.cfg.namespace,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
              spec: this.desiredSpec(now, undefined),
            },
          },
          this.requestOptions(timeoutMs),
        );
        this.observe(created);
        this.lastRenewMs = sentAt;
        return true;
      }

      this.observe(current);
      const record = readRecord(current);
      const heldByOther = record.holderIdentity !== '' && record.holderIdentity !== this.cfg.identity;
      if (heldByOther && monotonicMs() < this.observedAtMs + record.leaseDurationSeconds * 1000) {
        this.log.debug('lease is held by another candidate and not expired', { lease: this.leaseRef(), holder: record.holderIdentity });
        return false;
      }
      await this.writeLease(current, this.desiredSpec(now, record), timeoutMs);
      return true;
    } catch (err) {
      if (!this.stopping) {
        const conflict = isStatus(err, 409);
        this.log[conflict ? 'debug' : 'warn'](conflict ? 'lost a race for the lease' : 'lease request failed', {
          err: errorMessage(err),
          lease: this.leaseRef(),
        });
      }
      return false;
    }
  }

  /** Replaces the Lease, guarded by the resourceVersion of `base`; records the result. */
  private async writeLease(base: V1Lease, spec: V1LeaseSpec, timeoutMs: number): Promise<void> {
    const resourceVersion = base.metadata?.resourceVersion;
    if (!resourceVersion) throw new Error('lease has no resourceVersion');
    // The renewal counts from when it was sent, not from when its answer was processed: another
    // replica measures expiry from when it sees the record change, which is after the send, so
    // isLeader() (send + renewDeadline < send + leaseDuration) never outlives the Lease even when
    // the answer is slow to arrive or the event loop is busy.
    const sentAt = monotonicMs();
    const updated = await this.api.replaceNamespacedLease(
      {
        name: this.cfg.name,
        namespace: this.cfg.namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { ...base.metadata, name: this.cfg.name, namespace: this.cfg.namespace, resourceVersion },
          spec,
        },
      },
      this.requestOptions(timeoutMs),
    );
    this.observe(updated);
    this.lastRenewMs = sentAt;
  }

  /** The record we write when acquiring or renewing, given the record we read. */
  private desiredSpec(now: Date, old: LeaseRecord | undefined): V1LeaseSpec {
    const keepAcquireTime = old?.holderIdentity === this.cfg.identity && old.acquireTime !== undefined;
    const transitions = old === undefined ? 0 : old.holderIdentity === this.cfg.identity ? old.leaseTransitions : old.leaseTransitions + 1;
    return {
      holderIdentity: this.cfg.identity,
      leaseDurationSeconds: Math.ceil(this.cfg.leaseDurationMs / 1000),
      acquireTime: keepAcquireTime ? new V1MicroTime(old.acquireTime as string) : new V1MicroTime(now.getTime()),
      renewTime: new V1MicroTime(now.getTime()),
      leaseTransitions: transitions,
    };
  }

  /**
   * Gives the Lease up: empty holder and a 1 s duration, keeping the transition count. If the write
   * conflicts — stop() can abort a renewal that the API server had already applied, leaving us a
   * stale resourceVersion — the Lease is read again and released only if it still names us.
   */
  private async release(): Promise<void> {
    let lease = this.observedLease;
    if (!lease || this.observedHolder() !== this.cfg.identity) return;
    // stop() already aborted the shared signal, so these requests get a timeout of their own: one
    // renewDeadline for the whole release (all attempts together), so shutdown stays bounded —
    // in-flight work gets 10 s, the release at most renewDeadline (10 s), inside the Deployment's
    // 30 s terminationGracePeriodSeconds.
    const releaseDeadline = performance.now() + this.cfg.renewDeadlineMs;
    const options = (): ConfigurationOptions => this.requestOptions(releaseDeadline - performance.now(), false);
    for (let attempt = 1; ; attempt++) {
      const now = new V1MicroTime(Date.now());
      try {
        await this.api.replaceNamespacedLease(
          {
            name: this.cfg.name,
            namespace: this.cfg.namespace,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { ...lease.metadata },
              spec: {
                leaseDurationSeconds: 1,
                acquireTime: now,
                renewTime: now,
                leaseTransitions: readRecord(lease).leaseTransitions,
              },
            },
          },
          options(),
        );
        this.log.info('released leader lease', { lease: this.leaseRef(), identity: this.cfg.identity });
        return;
      } catch (err) {
        if (isStatus(err, 409) && attempt < 3) {
          try {
            lease = await this.api.readNamespacedLease({ name: this.cfg.name, namespace: this.cfg.namespace }, options());
          } catch (readErr) {
            this.log.warn('failed to release leader lease', { err: errorMessage(readErr), lease: this.leaseRef() });
            return;
          }
          if (readRecord(lease).holderIdentity !== this.cfg.identity) return; // already someone else's
          continue;
        }
        this.log.warn('failed to release leader lease', { err: errorMessage(err), lease: this.leaseRef() });
        return;
      }
    }
  }

  private observe(lease: V1Lease): void {
    this.observedLease = lease;
    const key = JSON.stringify(readRecord(lease));
    if (key !== this.observedRecordKey) {
      this.observedRecordKey = key;
      this.observedAtMs = monotonicMs();
    }
  }

  private observedRecord(): LeaseRecord {
    return readRecord(this.observedLease ?? {});
  }

  private observedHolder(): string {
    return this.observedRecord().holderIdentity;
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.log.info('stopped leading', { lease: this.leaseRef(), identity: this.cfg.identity, reason: why });
    this.invoke('onStoppedLeading');
  }

  private invoke(which: keyof LeaderCallbacks): void {
    try {
      this.callbacks?.[which]();
    } catch (err) {
      this.log.error(`leader election callback ${which} threw`, { err: errorMessage(err) });
    }
  }

  /**
   * Per-request options: an abort signal that fires after timeoutMs (a hung request must not
   * outlive the renew deadline) or when stop() is called. client-node 2 has no per-call timeout,
   * so the signal is set on the request by a middleware appended to the configured ones.
   */
  private requestOptions(timeoutMs: number, abortOnStop = true): ConfigurationOptions {
    const timeout = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
    const signal = abortOnStop ? AbortSignal.any([timeout, this.stopController.signal]) : timeout;
    return {
      middleware: [
        {
          pre: (ctx) => {
            ctx.setSignal(signal);
            return new Observable(Promise.resolve(ctx));
          },
          post: (res) => new Observable(Promise.resolve(res)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  /** Sleeps for ms, or less if stop() is called. */
  private sleep(ms: number): Promise<void> {
    const signal = this.stopController.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private leaseRef(): { namespace: string; name: string } {
    return { namespace: this.cfg.namespace, name: this.cfg.name };
  }
}

function validate(cfg: LeaderElectionConfig): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = cfg;
  if (!(retryPeriodMs > 0 && renewDeadlineMs > 0 && leaseDurationMs > 0)) {
    throw new Error('leader election: leaseDuration, renewDeadline and retryPeriod must be positive');
  }
  // The same two rules as client-go's NewLeaderElector: the leader must give up before anyone else
  // may take over, and it must get more than one jittered try within the deadline.
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new Error('leader election: leaseDuration must be greater than renewDeadline');
  }
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) {
    throw new Error(`leader election: renewDeadline must be greater than ${JITTER_FACTOR} × retryPeriod`);
  }
  if (leaseDurationMs % 1000 !== 0) {
    // Lease.spec.leaseDurationSeconds is whole seconds; refuse to silently round a safety margin.
    throw new Error('leader election: leaseDuration must be a whole number of seconds');
  }
  if (!cfg.identity) throw new Error('leader election: identity must not be empty');
  if (!cfg.name || !cfg.namespace) throw new Error('leader election: lease name and namespace are required');
}

function readRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: timeString(spec.acquireTime),
    renewTime: timeString(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

/** client-node hands MicroTime fields back as the raw string despite the Date type. */
function timeString(t: unknown): string | undefined {
  if (t instanceof Date) return t.toISOString();
  return typeof t === 'string' ? t : undefined;
}

function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

function errorMessage(err: unknown): string {
  if (err instanceof ApiException)
    return `HTTP ${err.code}: ${typeof err.body === 'string' ? err.body.slice(0, 300) : err.message.slice(0, 300)}`;
  return err instanceof Error ? err.message : String(err);
}

function monotonicMs(): number {
  return performance.now();
}
