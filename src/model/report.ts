// The names hcsync reports under, fixed by the public contract (docs/contract.md): the
// condition, its reasons, the Event reasons and the metric states. plan/states.ts says which port
// state maps to which of them.

export const CONDITION_TYPE = 'HealthCheckInSync';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export type Reason =
  | 'InSync'
  | 'Patched'
  | 'Drifted'
  | 'PatchFailed'
  | 'InvalidIntent'
  | 'Conflict'
  | 'RolloutInProgress'
  | 'NoIntent'
  | 'BackendNotReady'
  | 'NotManaged';

export type MetricState = 'in_sync' | 'drifted' | 'no_intent' | 'invalid' | 'conflict' | 'not_ready';
export const METRIC_STATES: readonly MetricState[] = ['in_sync', 'drifted', 'no_intent', 'invalid', 'conflict', 'not_ready'];

export type EventType = 'Normal' | 'Warning';

export type EventReason =
  | 'HealthCheckPatched'
  | 'HealthCheckDrifted'
  | 'HealthCheckPatchFailed'
  | 'InvalidHealthIntent'
  | 'HealthCheckConflict'
  | 'LivenessProbeFallback';

/** An Event to record on the Service. */
export interface PlannedEvent {
  readonly type: EventType;
  readonly reason: EventReason;
  readonly note: string;
}
