// Paces GCP writes to --gcp-write-qps across all reconciles (a token bucket on p-queue's
// interval cap), so a burst of drift never trips the project's per-minute write quota.
import PQueue from 'p-queue';
import type { OwnedFields } from '../model/health-check.js';
import type { HealthCheckPatcher, PatchTarget } from '../model/ports.js';

/** A HealthCheckPatcher that queues every patch behind one shared pace of --gcp-write-qps. */
export class RateLimitedPatcher implements HealthCheckPatcher {
  private readonly queue: PQueue;

  constructor(
    private readonly inner: HealthCheckPatcher,
    writesPerSecond: number,
  ) {
    // qps below 1 becomes one write per 1/qps seconds.
    const intervalMs = writesPerSecond >= 1 ? 1000 : Math.round(1000 / writesPerSecond);
    const cap = writesPerSecond >= 1 ? Math.floor(writesPerSecond) : 1;
    this.queue = new PQueue({ interval: intervalMs, intervalCap: cap, strict: true });
  }

  /** Sends the patch when the pace allows; resolves or rejects with the inner patcher's answer. */
  patchHealthCheck(target: PatchTarget, fields: OwnedFields, requestId: string): Promise<void> {
    return this.queue.add(() => this.inner.patchHealthCheck(target, fields, requestId));
  }
}
