// One record per port state, from which every vocabulary users see derives: the condition's
// reason and status, which port decides the Service's reason (severity), the metric state, the
// Event, and whether the drift gauge is 1. One table, so the five can never disagree. Pure.
import type { ConditionStatus, EventReason, EventType, MetricState, Reason } from '../model/report.js';
import type { PortOutcome, PortState } from './outcome.js';

export interface StateRecord {
  readonly reason: Reason;
  readonly status: ConditionStatus;
  /** Lower is worse; the Service's condition takes its worst port's reason. */
  readonly severity: number;
  readonly metric: MetricState;
  /**
   * The Event for a port in this state: `patch` on every patch (it only happens on a real
   * difference), `change` only when the condition changes (so a state is never repeated).
   */
  readonly event?: { readonly type: EventType; readonly reason: EventReason; readonly on: 'patch' | 'change' };
  /** 1 on the drift gauge while live ≠ intent; `if_changes`: only when the outcome lists changes. */
  readonly drift: 'yes' | 'no' | 'if_changes';
}

/** Problems first, then waiting, then good news. */
export const PORT_STATES: Readonly<Record<PortState, StateRecord>> = {
  invalid: {
    reason: 'InvalidIntent',
    status: 'False',
    severity: 0,
    metric: 'invalid',
    event: { type: 'Warning', reason: 'InvalidHealthIntent', on: 'change' },
    drift: 'no',
  },
  conflict: {
    reason: 'Conflict',
    status: 'False',
    severity: 1,
    metric: 'conflict',
    event: { type: 'Warning', reason: 'HealthCheckConflict', on: 'change' },
    drift: 'if_changes',
  },
  patch_failed: {
    reason: 'PatchFailed',
    status: 'False',
    severity: 2,
    metric: 'drifted',
    event: { type: 'Warning', reason: 'HealthCheckPatchFailed', on: 'change' },
    drift: 'yes',
  },
  drifted: {
    reason: 'Drifted',
    status: 'False',
    severity: 3,
    metric: 'drifted',
    event: { type: 'Warning', reason: 'HealthCheckDrifted', on: 'change' },
    drift: 'yes',
  },
  hold: { reason: 'RolloutInProgress', status: 'False', severity: 4, metric: 'drifted', drift: 'no' },
  not_ready: { reason: 'BackendNotReady', status: 'Unknown', severity: 5, metric: 'not_ready', drift: 'no' },
  patched: {
    reason: 'Patched',
    status: 'True',
    severity: 6,
    metric: 'in_sync',
    event: { type: 'Normal', reason: 'HealthCheckPatched', on: 'patch' },
    drift: 'no',
  },
  in_sync: { reason: 'InSync', status: 'True', severity: 7, metric: 'in_sync', drift: 'no' },
  no_intent: { reason: 'NoIntent', status: 'Unknown', severity: 8, metric: 'no_intent', drift: 'no' },
};

/** The Service-level state for a Service hcsync reported on before but no longer manages. */
export const NOT_MANAGED = { reason: 'NotManaged', status: 'Unknown' } as const satisfies { reason: Reason; status: ConditionStatus };

/** The state a port counts as in `hcsync_health_checks{state}`. */
export function metricStateOf(outcome: PortOutcome): MetricState {
  return PORT_STATES[outcome.state].metric;
}

/** 1 while the live check differs from intent (the contract's drift gauge). */
export function isDrift(outcome: PortOutcome): boolean {
  const drift = PORT_STATES[outcome.state].drift;
  return drift === 'yes' || (drift === 'if_changes' && 'changes' in outcome && outcome.changes.length > 0);
}

/** The record of the worst of these states (`no_intent` when there are none). */
export function worstState(states: Iterable<PortState>): StateRecord {
  let worst: StateRecord = PORT_STATES.no_intent;
  for (const s of states) if (PORT_STATES[s].severity < worst.severity) worst = PORT_STATES[s];
  return worst;
}
