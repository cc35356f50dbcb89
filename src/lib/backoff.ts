// Exponential backoff, the one formula every retry in hcsync uses: the work queue's per-key
// backoff, an informer's restart after a failed watch, and the one-shot snapshot's retries.
// client-go's ItemExponentialFailureRateLimiter: base × 2^attempt, capped.

export interface BackoffSchedule {
  /** The delay before the first retry. */
  readonly baseMs: number;
  /** No delay is longer than this. */
  readonly maxMs: number;
}

/** The delay before retry number `attempt` (0 for the first): base × 2^attempt, at most max. */
export function backoffDelay(schedule: BackoffSchedule, attempt: number): number {
  return Math.min(schedule.baseMs * 2 ** attempt, schedule.maxMs);
}

/** One retrying thing's position in its schedule: `next()` gives a delay and moves on; `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly schedule: BackoffSchedule) {}

  next(): number {
    return backoffDelay(this.schedule, this.attempt++);
  }

  reset(): void {
    this.attempt = 0;
  }
}
