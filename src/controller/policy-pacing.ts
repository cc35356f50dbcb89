// Paces hcsync's HealthCheckPolicy writes: one at a time, at least `minIntervalMs` apart, so a
// resync that finds many Services without their policy (a fresh install, a new Gateway in front of
// hundreds of Services) does not burst the API server — and GKE's Gateway controller, which
// re-syncs the load balancer on every policy change. The fence sits inside (controller.ts):
// leadership is checked when the write leaves the queue, not when it joined it.
import type { DesiredPolicy } from '../model/gateway.js';
import type { PolicyWriter } from '../model/ports.js';

export class PacedPolicyWriter implements PolicyWriter {
  private tail: Promise<unknown> = Promise.resolve();
  private lastAt = -Infinity;

  constructor(
    private readonly inner: PolicyWriter,
    private readonly minIntervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  apply(policy: DesiredPolicy): Promise<void> {
    return this.paced(() => this.inner.apply(policy));
  }

  delete(namespace: string, name: string, uid: string): Promise<void> {
    return this.paced(() => this.inner.delete(namespace, name, uid));
  }

  /** Runs `write` after the writes queued before it, and no sooner than minIntervalMs after the last one started. */
  private paced(write: () => Promise<void>): Promise<void> {
    const run = this.tail.then(async () => {
      const wait = this.lastAt + this.minIntervalMs - this.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.lastAt = this.now();
      return write();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
