// Write fencing: a replica that is not the leader sends no GCP patch, status write or Event.
// Leader election alone does not give that: onStoppedLeading runs after the Lease is lost, and
// work already under way (a reconcile between its assessment and its writes, a patch waiting in
// the write limiter, a wait on a slow Operation) would otherwise still write. So every write port
// is wrapped: leadership is checked right before the write is sent (LeaderElector.isLeader(),
// which also turns false once renewDeadline passed without a renewal, before anyone else may
// take the Lease), and on step-down the pending waits are abandoned. A write already on the wire
// when the Lease is lost cannot be recalled; the window is one request, not a queue.
// Wired in controller.ts around the adapters, so reconcile.ts stays unaware of leadership.
import type { OwnedFields } from '../model/health-check.js';
import type { SlimCondition, SlimService } from '../model/kube.js';
import type { EventRecorder, HealthCheckPatcher, PatchTarget, PolicyWriter, StatusWriter } from '../model/ports.js';
import type { DesiredPolicy } from '../model/gateway.js';
import type { PlannedEvent } from '../model/report.js';

/** Refused before sending: this replica does not (or no longer) hold the Lease. */
export class NotLeaderError extends Error {
  constructor(what: string) {
    super(`${what} not sent: this replica is not the leader`);
    this.name = 'NotLeaderError';
  }
}

/** Leadership as the writers see it: asked right before each write, and a signal that fires once on step-down. */
export class Fence {
  private readonly lost = new AbortController();

  constructor(private readonly leading: () => boolean) {}

  /** True while writes may be sent. */
  mayWrite(): boolean {
    return !this.lost.signal.aborted && this.leading();
  }

  /** Fires when this replica stops leading (or shuts down): waits are abandoned. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /** Closes the fence for good (step-down, shutdown). */
  close(why: string): void {
    if (!this.lost.signal.aborted) this.lost.abort(new NotLeaderError(why));
  }

  /** Throws NotLeaderError unless writes may be sent. */
  check(what: string): void {
    if (!this.mayWrite()) throw new NotLeaderError(what);
  }

  /**
   * Races `work` against step-down: after the fence closes the caller gets NotLeaderError at once
   * (the work's own result, e.g. an Operation that completes later, is ignored).
   */
  race<T>(what: string, work: Promise<T>): Promise<T> {
    const signal = this.lost.signal;
    if (signal.aborted) return Promise.reject(new NotLeaderError(what));
    return new Promise<T>((resolve, reject) => {
      const onLost = () => reject(new NotLeaderError(`${what} (abandoned on step-down)`));
      signal.addEventListener('abort', onLost, { once: true });
      work.then(
        (v) => {
          signal.removeEventListener('abort', onLost);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onLost);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}

/** Checks leadership right before the patch is sent (after any wait in the write limiter) and abandons the Operation wait on step-down. */
export class FencedPatcher implements HealthCheckPatcher {
  constructor(
    private readonly inner: HealthCheckPatcher,
    private readonly fence: Fence,
  ) {}

  patchHealthCheck(target: PatchTarget, fields: OwnedFields, requestId: string): Promise<void> {
    const what = `patch of health check ${target.name}`;
    try {
      this.fence.check(what);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.fence.race(what, this.inner.patchHealthCheck(target, fields, requestId));
  }
}

/** Checks leadership right before the condition is written. */
export class FencedStatusWriter implements StatusWriter {
  constructor(
    private readonly inner: StatusWriter,
    private readonly fence: Fence,
  ) {}

  async writeCondition(service: SlimService, condition: SlimCondition): Promise<void> {
    this.fence.check(`condition on ${service.metadata.namespace}/${service.metadata.name}`);
    await this.inner.writeCondition(service, condition);
  }
}

/** Checks leadership right before the Event is created. */
export class FencedEventRecorder implements EventRecorder {
  constructor(
    private readonly inner: EventRecorder,
    private readonly fence: Fence,
  ) {}

  async emit(service: SlimService, event: PlannedEvent): Promise<void> {
    this.fence.check(`Event ${event.reason} on ${service.metadata.namespace}/${service.metadata.name}`);
    await this.inner.emit(service, event);
  }
}

/** Checks leadership right before a HealthCheckPolicy is applied or deleted. */
export class FencedPolicyWriter implements PolicyWriter {
  constructor(
    private readonly inner: PolicyWriter,
    private readonly fence: Fence,
  ) {}

  async apply(policy: DesiredPolicy): Promise<void> {
    this.fence.check(`apply of HealthCheckPolicy ${policy.namespace}/${policy.name}`);
    await this.inner.apply(policy);
  }

  async delete(namespace: string, name: string, uid: string): Promise<void> {
    this.fence.check(`delete of HealthCheckPolicy ${namespace}/${name}`);
    await this.inner.delete(namespace, name, uid);
  }
}
