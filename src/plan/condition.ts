// The HealthCheckInSync condition for one Service, from its port reports. Pure.
import { CONDITION_TYPE, type ConditionStatus, type Reason } from '../model/report.js';
import type { SlimCondition } from '../model/kube.js';
import type { PortReport } from './outcome.js';
import { describePortReport } from './describe.js';
import { NOT_MANAGED, worstState } from './states.js';

export interface ConditionInput {
  readonly reports: readonly PortReport[];
  readonly previous: SlimCondition | undefined;
  readonly generation: number | undefined;
  readonly now: string;
}

/**
 * The condition for this pass: the worst port's reason and status, a message naming every port.
 * A check hcsync patched keeps `Patched` (and its message) while it holds, so the user keeps
 * seeing that hcsync, not GKE, set it — and a settled Service is not rewritten.
 */
export function buildCondition({ reports, previous, generation, now }: ConditionInput): SlimCondition {
  const worst = worstState(reports.map((r) => r.outcome.state));
  if (worst.reason === 'InSync' && previous?.reason === 'Patched') {
    return conditionWith({ status: 'True', reason: 'Patched', message: previous.message, previous, generation, now });
  }
  const message = reports.length === 0 ? 'no Service port is a backend of an Ingress' : reports.map(describePortReport).join('; ');
  return conditionWith({ status: worst.status, reason: worst.reason, message, previous, generation, now });
}

/** The condition for a Service hcsync reported on before and no longer manages, saying why. */
export function notManagedCondition(
  why: string,
  previous: SlimCondition | undefined,
  generation: number | undefined,
  now: string,
): SlimCondition {
  return conditionWith({ ...NOT_MANAGED, message: why, previous, generation, now });
}

function conditionWith(c: {
  status: ConditionStatus;
  reason: Reason;
  message: string;
  previous: SlimCondition | undefined;
  generation: number | undefined;
  now: string;
}): SlimCondition {
  const lastTransitionTime = c.previous?.status === c.status ? c.previous.lastTransitionTime : c.now;
  return {
    type: CONDITION_TYPE,
    status: c.status,
    reason: c.reason,
    message: c.message,
    ...(c.generation !== undefined ? { observedGeneration: c.generation } : {}),
    lastTransitionTime,
  };
}

/** Whether writing `next` would change what the cluster already has (no write otherwise). */
export function conditionChanged(previous: SlimCondition | undefined, next: SlimCondition): boolean {
  return (
    previous?.status !== next.status ||
    previous.reason !== next.reason ||
    previous.message !== next.message ||
    previous.observedGeneration !== next.observedGeneration
  );
}
