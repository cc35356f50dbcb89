// A controller work queue on p-queue, with client-go's semantics that p-queue lacks: at most
// one pending entry per key (an add while processing marks it dirty and re-runs it once after),
// per-key exponential backoff on failure, delayed adds, and a clean drain on shutdown.
// It is generic over what the work returns: `decide` turns that outcome into a Requeue.
// Two lanes: an urgent add (a retry after a failure, a patch that failed in GCP) runs before the
// keys already waiting. A resync queues every Service at once, and at S=5,000 a retry queued behind
// ~4,500 of them waited 100 s; the one check it was for was the last to converge (issue 11).
import PQueue from 'p-queue';
import { backoffDelay, type BackoffSchedule } from '../lib/backoff.js';

/** p-queue priority of urgent adds (others 0). */
const URGENT = 1;

/** What the queue does with a key after its work ran. */
export type Requeue =
  /** Nothing more: the key runs again on its next add (and its failure count starts over). */
  | { readonly kind: 'forget' }
  /** Run again after this delay (and its failure count starts over). */
  | { readonly kind: 'after'; readonly ms: number }
  /** A failure: run again after the key's next backoff on this schedule (base × 2^failures). */
  | { readonly kind: 'backoff'; readonly schedule: BackoffSchedule };

export interface WorkQueueOptions<O> {
  readonly concurrency: number;
  /** Maps the work's outcome to what the queue does next (the controller's error policy). */
  readonly decide: (outcome: O) => Requeue;
  /** The backoff for work that throws instead of returning an outcome (a bug: it should not). */
  readonly onThrow: BackoffSchedule;
  readonly onDepth?: (depth: number) => void;
  readonly onRetry?: () => void;
}

/** A deduplicating, rate-limited queue of keys whose work returns an outcome of type O. */
export class WorkQueue<O> {
  private readonly queue: PQueue;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while running, to run once more after: true when one of those adds was urgent. */
  private readonly dirty = new Map<string, boolean>();
  private readonly failures = new Map<string, number>();
  /** Pending delayed adds: the timer and when it is due (monotonic ms). */
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number; urgent: boolean }>();
  private shuttingDown = false;

  constructor(
    private readonly work: (key: string) => Promise<O>,
    private readonly opts: WorkQueueOptions<O>,
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
  }

  /** Keys waiting to run (not those running or waiting on a timer). */
  get depth(): number {
    return this.queued.size;
  }

  /** Keys waiting to run or running (not those waiting on a timer): 0 when the queue has nothing to do now. */
  get active(): number {
    return this.queued.size + this.processing.size;
  }

  /**
   * Queues the key unless it is queued already; a key being worked on is re-run once it ends. An
   * urgent add runs before every key that is not urgent (a key already queued moves up).
   */
  add(key: string, urgent = false): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.set(key, urgent || (this.dirty.get(key) ?? false));
      return;
    }
    if (this.queued.has(key)) {
      if (urgent) {
        try {
          this.queue.setPriority(key, URGENT);
        } catch {
          // Started meanwhile: nothing to move up.
        }
      }
      return;
    }
    this.queued.add(key);
    this.report();
    void this.queue.add(() => this.run(key), { id: key, priority: urgent ? URGENT : 0 });
  }

  /**
   * Adds after a delay. With a delayed add already pending for the key, the sooner of the two
   * stays (client-go's delaying queue keeps the earliest ready time): a later call with a shorter
   * delay replaces the pending timer, one with a longer delay is dropped (its urgency is kept).
   */
  addAfter(key: string, ms: number, urgent = false): void {
    if (this.shuttingDown) return;
    const due = performance.now() + ms;
    const pending = this.timers.get(key);
    if (pending) {
      if (pending.due <= due) {
        pending.urgent ||= urgent;
        return;
      }
      clearTimeout(pending.timer);
      urgent ||= pending.urgent;
    }
    const timer = setTimeout(() => {
      const t = this.timers.get(key);
      this.timers.delete(key);
      this.add(key, t?.urgent ?? urgent);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, due, urgent });
  }

  /** Failures of this key since its last success (0 once it succeeded or was forgotten). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  private async run(key: string): Promise<void> {
    this.queued.delete(key);
    this.processing.add(key);
    this.report();
    let next: Requeue;
    try {
      next = this.opts.decide(await this.work(key));
    } catch {
      next = { kind: 'backoff', schedule: this.opts.onThrow };
    }
    this.processing.delete(key);
    if (next.kind === 'backoff') {
      const delay = backoffDelay(next.schedule, this.failuresOf(key));
      this.failures.set(key, this.failuresOf(key) + 1);
      this.opts.onRetry?.();
      // A retry must not wait behind a resync's worth of keys.
      this.addAfter(key, delay, true);
    } else {
      this.failures.delete(key);
      if (next.kind === 'after') this.addAfter(key, next.ms);
    }
    const dirty = this.dirty.get(key);
    if (dirty !== undefined) {
      this.dirty.delete(key);
      this.add(key, dirty);
    }
    this.report();
  }

  private report(): void {
    this.opts.onDepth?.(this.queued.size);
  }

  /** Stops taking work, drops pending timers and waits for running work (in-flight patches) to end. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.clear();
    this.queued.clear();
    this.dirty.clear();
    await this.queue.onIdle();
    this.report();
  }

  /** Resolves when nothing is queued or running (tests, one-shot runs). */
  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }
}
