// Paces GCP writes to --gcp-write-qps across all reconciles (a token bucket on p-queue's
// interval cap), so a burst of drift never trips the project's per-minute write quota. When GCP
// says a write was rate limited anyway (403 rateLimitExceeded, 429, an Operation that ended in a
// quota error) the whole limiter pauses: the quota is the project's, not the key's, so retrying
// another Service's patch a second later only spends more of it (docs/gke-ingress-healthchecks.md §6.4).
// On step-down the writes still waiting here are dropped (write fencing: controller/fence.ts).
import PQueue from 'p-queue';
import { Backoff, type BackoffSchedule } from '../lib/backoff.js';
import { classify } from '../gcp/errors.js';
import type { OwnedFields } from '../model/health-check.js';
import type { HealthCheckPatcher, PatchTarget } from '../model/ports.js';

/** After a rate-limited write, writes pause 15 s, 30 s, 60 s … at most 5 min; a write that succeeds starts over. */
const RATE_LIMIT_PAUSE: BackoffSchedule = { baseMs: 15_000, maxMs: 5 * 60_000 };

/** A queued write that will not be sent: the limiter dropped it (this replica stopped leading or is shutting down). */
export class WriteDroppedError extends Error {
  constructor(why: string) {
    super(`health check patch not sent: ${why}`);
    this.name = 'WriteDroppedError';
  }
}

export interface RateLimitedPatcherOptions {
  /** The global pause after a rate-limited write (tests use short ones). */
  readonly pause?: BackoffSchedule;
  /** Told when writes pause, e.g. to log it. */
  readonly onPause?: (ms: number, error: Error) => void;
}

/** A HealthCheckPatcher that queues every patch behind one shared pace of --gcp-write-qps. */
export class RateLimitedPatcher implements HealthCheckPatcher {
  private readonly queue: PQueue;
  private readonly pauseBackoff: Backoff;
  /** Counts pauses; a write remembers the count it was sent under (see pauseWrites). */
  private pauseEpoch = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Writes waiting for their turn, so they can be rejected when dropped (p-queue's clear() would leave them pending forever). */
  private readonly waiting = new Set<(err: Error) => void>();
  private droppedBecause: string | undefined;

  constructor(
    private readonly inner: HealthCheckPatcher,
    writesPerSecond: number,
    private readonly opts: RateLimitedPatcherOptions = {},
  ) {
    // qps below 1 becomes one write per 1/qps seconds.
    const intervalMs = writesPerSecond >= 1 ? 1000 : Math.round(1000 / writesPerSecond);
    const cap = writesPerSecond >= 1 ? Math.floor(writesPerSecond) : 1;
    this.queue = new PQueue({ interval: intervalMs, intervalCap: cap, strict: true });
    this.pauseBackoff = new Backoff(opts.pause ?? RATE_LIMIT_PAUSE);
  }

  /** Writes waiting for the pace or a pause (not those in flight). */
  get waitingWrites(): number {
    return this.waiting.size;
  }

  /** True while writes are paused after a rate-limited one. */
  get paused(): boolean {
    return this.queue.isPaused;
  }

  /** Sends the patch when the pace allows; resolves or rejects with the inner patcher's answer. */
  patchHealthCheck(target: PatchTarget, fields: OwnedFields, requestId: string): Promise<void> {
    if (this.droppedBecause !== undefined) return Promise.reject(new WriteDroppedError(this.droppedBecause));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const drop = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      this.waiting.add(drop);
      void this.queue.add(async () => {
        if (settled) return; // dropped while it waited
        this.waiting.delete(drop);
        settled = true;
        const sentInEpoch = this.pauseEpoch;
        try {
          await this.inner.patchHealthCheck(target, fields, requestId);
          this.pauseBackoff.reset();
          resolve();
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          if (classify(err).errorClass === 'rate_limited') this.pauseWrites(error, sentInEpoch);
          reject(error);
        }
      });
    });
  }

  /**
   * Rejects every write still waiting with WriteDroppedError, and every later one: called when
   * this replica stops leading or shuts down. Writes already sent are not recalled.
   */
  dropQueued(why: string): void {
    this.droppedBecause = why;
    clearTimeout(this.resumeTimer);
    this.queue.clear();
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const drop of waiting) drop(new WriteDroppedError(why));
  }

  /**
   * Pauses all writes for the next step of the rate-limit backoff. Writes that were in flight
   * together and fail together count once: a rate-limited answer to a write sent before the
   * latest pause began does not pause again. (Decided by the pause count the write was sent under,
   * not by the clock: the resume timer may fire a fraction of a millisecond before a clock
   * comparison would agree the pause is over.)
   */
  private pauseWrites(error: Error, sentInEpoch: number): void {
    if (this.droppedBecause !== undefined || sentInEpoch !== this.pauseEpoch) return;
    const ms = this.pauseBackoff.next();
    this.pauseEpoch++;
    this.queue.pause();
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      if (this.droppedBecause === undefined) this.queue.start();
    }, ms);
    this.resumeTimer.unref();
    this.opts.onPause?.(ms, error);
  }
}
