// The pace of GCP writes: when the next write may leave the write limiter (write-limiter.ts).
// Writes are spread evenly, one every 1/qps seconds, on a fixed grid of slots. A slot the event
// loop reached late (a GC pause, a burst of reconciles, timer slack) is caught up at once instead
// of shifting every later slot: a pace measured from the previous send (p-queue's strict sliding
// window, used before) loses each late timer for good, and with its 25 writes sent together each
// second (one window) a timer late by L ms every second cut 25 qps to 25 / (1 + L/1000) — at
// S=5,000 the writes ran at ~19/s while the reconcile workers were busy (issue 11).
// Bounds, as GCP counts quota per project per minute (docs/gke-ingress-healthchecks.md §7): the
// grid gives qps writes per second on average. Up to floor(qps) writes may leave at once — slots
// caught up after a stall, or the first writes after an idle spell or a pause (p-queue allowed the
// same burst: writes that meet an exhausted quota together fail together and pause once) — so a
// second may hold up to 2 × qps writes; and no more than 60 × qps writes leave in any 60 s (checked
// on send times), so a minute never holds more writes than --gcp-write-qps allows.

/** Send times are kept for this long: the quota is counted per minute. */
const QUOTA_WINDOW_MS = 60_000;

/** When each write may go, for `perSecond` writes per second. Pure: the caller passes the time (monotonic ms). */
export class WritePace {
  /** Milliseconds between slots. */
  readonly spacingMs: number;
  /** Slots that may be taken at once besides the current one (caught up after a stall, or banked while idle): floor(qps) − 1. */
  readonly catchUpSlots: number;
  /** Writes allowed in any QUOTA_WINDOW_MS. */
  readonly perMinute: number;
  /** The next free slot on the grid. */
  private nextSlot = -Infinity;
  /** Send times within the last QUOTA_WINDOW_MS, oldest first (a ring: `start` is the oldest). */
  private readonly sent: number[] = [];
  private start = 0;

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError(`writes per second must be more than 0, got ${perSecond}`);
    this.spacingMs = 1000 / perSecond;
    this.catchUpSlots = Math.max(0, Math.floor(perSecond) - 1);
    this.perMinute = Math.max(1, Math.floor((perSecond * QUOTA_WINDOW_MS) / 1000));
  }

  /** Milliseconds from `now` until the next write may go (0: now). */
  delay(now: number): number {
    this.expire(now);
    const slot = Math.max(0, this.nextSlot - now);
    const count = this.sent.length - this.start;
    const quota = count < this.perMinute ? 0 : (this.sent[this.start] ?? now) + QUOTA_WINDOW_MS - now;
    return Math.max(slot, quota);
  }

  /**
   * Takes the slot for a write sent at `now` (call only when delay(now) is 0). A slot the loop
   * reached late is caught up; slots further back than catchUpSlots are skipped, so no more than
   * floor(qps) writes ever leave at once.
   */
  take(now: number): void {
    const slot = Math.max(this.nextSlot, now - this.catchUpSlots * this.spacingMs);
    this.nextSlot = slot + this.spacingMs;
    this.sent.push(now);
  }

  private expire(now: number): void {
    while (this.start < this.sent.length && (this.sent[this.start] ?? now) <= now - QUOTA_WINDOW_MS) this.start++;
    if (this.start > 1024 && this.start * 2 > this.sent.length) {
      this.sent.splice(0, this.start);
      this.start = 0;
    }
  }
}
