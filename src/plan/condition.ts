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
  const message = reports.length === 0 ? 'no Service port is a backend of an Ingress' : joinCapped(reports.map(describePortReport));
  return conditionWith({ status: worst.status, reason: worst.reason, message, previous, generation, now });
}

/** The API server rejects a condition message over 32 KiB (apimachinery ValidateConditions, maxMessageLen 32768 bytes). */
const MAX_CONDITION_MESSAGE_BYTES = 32 * 1024;

/**
 * The port lines joined with "; ", as many as fit in MAX_CONDITION_MESSAGE_BYTES, then how many were
 * left out: a Service with hundreds of ports still gets a condition the API server accepts.
 */
function joinCapped(lines: readonly string[], maxBytes = MAX_CONDITION_MESSAGE_BYTES): string {
  const joined = lines.join('; ');
  if (Buffer.byteLength(joined) <= maxBytes) return joined;
  const kept: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const add = Buffer.byteLength(line) + (kept.length > 0 ? 2 : 0);
    // Room for the tail "; … and N more (hcsync plan lists them all)".
    if (bytes + add > maxBytes - 64) break;
    kept.push(line);
    bytes += add;
  }
  const head =
    kept.length > 0
      ? kept.join('; ')
      : Buffer.from(lines[0] ?? '')
          .subarray(0, maxBytes - 64)
          .toString();
  const more = lines.length - Math.max(kept.length, 1);
  return more > 0 ? `${head}; … and ${more} more (hcsync plan lists them all)` : head;
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
