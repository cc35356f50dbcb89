// Paces GCP writes to --gcp-write-qps across all reconciles (an even grid of slots with bounded
// catch-up, write-pace.ts), so a burst of drift never trips the project's per-minute write quota. When GCP
// says a write was rate limited anyway (403 rateLimitExceeded, 429, an Operation that ended in a
// quota error) the whole limiter pauses: the quota is the project's, not the key's, so retrying
// another Service's patch a second later only spends more of it (docs/gke-ingress-healthchecks.md §6.4).
// On step-down the writes still waiting here are dropped (write fencing: controller/fence.ts).
import { Backoff, type BackoffSchedule } from '../lib/backoff.js';
import { classify } from '../gcp/errors.js';
import type { OwnedFields } from '../model/health-check.js';
import type { HealthCheckPatcher, PatchTarget } from '../model/ports.js';
import { WritePace } from './write-pace.js';

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
  /** The clock in ms (default performance.now: monotonic); tests pass a mocked one. */
  readonly now?: () => number;
}

/** A write waiting for its turn: how to send or drop it. */
interface Waiting {
  readonly send: () => void;
  readonly drop: (err: Error) => void;
}

/** A HealthCheckPatcher that queues every patch (first in, first out) behind one shared pace of --gcp-write-qps (write-pace.ts). */
export class RateLimitedPatcher implements HealthCheckPatcher {
  private readonly pace: WritePace;
  private readonly pauseBackoff: Backoff;
  /** Counts pauses; a write remembers the count it was sent under (see pauseWrites). */
  private pauseEpoch = 0;
  private isPaused = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Armed while the head of the queue waits for its slot. */
  private paceTimer: NodeJS.Timeout | undefined;
  /** Writes waiting for their turn, oldest first. */
  private readonly waiting: Waiting[] = [];
  private droppedBecause: string | undefined;
  private readonly now: () => number;

  constructor(
    private readonly inner: HealthCheckPatcher,
    writesPerSecond: number,
    private readonly opts: RateLimitedPatcherOptions = {},
  ) {
    this.pace = new WritePace(writesPerSecond);
    this.now = opts.now ?? (() => performance.now());
    this.pauseBackoff = new Backoff(opts.pause ?? RATE_LIMIT_PAUSE);
  }

  /** Writes waiting for the pace or a pause (not those in flight). */
  get waitingWrites(): number {
    return this.waiting.length;
  }

  /** True while writes are paused after a rate-limited one. */
  get paused(): boolean {
    return this.isPaused;
  }

  /** Sends the patch when the pace allows; resolves or rejects with the inner patcher's answer. */
  patchHealthCheck(target: PatchTarget, fields: OwnedFields, requestId: string): Promise<void> {
    if (this.droppedBecause !== undefined) return Promise.reject(new WriteDroppedError(this.droppedBecause));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        drop: reject,
        send: () => {
          const sentInEpoch = this.pauseEpoch;
          let sent: Promise<void>;
          try {
            sent = this.inner.patchHealthCheck(target, fields, requestId);
          } catch (err) {
            sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
          }
          sent.then(
            () => {
              this.pauseBackoff.reset();
              resolve();
            },
            (err: unknown) => {
              const error = err instanceof Error ? err : new Error(String(err));
              if (classify(err).errorClass === 'rate_limited') this.pauseWrites(error, sentInEpoch);
              reject(error);
            },
          );
        },
      });
      this.pump();
    });
  }

  /**
   * Rejects every write still waiting with WriteDroppedError, and every later one: called when
   * this replica stops leading or shuts down. Writes already sent are not recalled.
   */
  dropQueued(why: string): void {
    this.droppedBecause = why;
    clearTimeout(this.resumeTimer);
    clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    for (const w of this.waiting.splice(0)) w.drop(new WriteDroppedError(why));
  }

  /** Sends every write whose slot has come (the inner patcher is called synchronously: the fence is asked right then), then arms a timer for the next. */
  private pump(): void {
    while (!this.isPaused && this.droppedBecause === undefined && this.waiting.length > 0) {
      const now = this.now();
      const wait = this.pace.delay(now);
      if (wait > 0) {
        // A timer may fire a fraction of a millisecond early by the clock: round up.
        this.paceTimer ??= setTimeout(() => {
          this.paceTimer = undefined;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      const next = this.waiting.shift();
      if (!next) return;
      this.pace.take(now);
      next.send();
    }
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
    this.isPaused = true;
    clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.isPaused = false;
      this.pump();
    }, ms);
    this.resumeTimer.unref();
    this.opts.onPause?.(ms, error);
  }
}
