// What hcsync tells the user about one Service: the HealthCheckInSync condition, the Events and
// the state each port counts as in metrics. Pure.
import type { SlimCondition, SlimServicePort } from '../model/kube.js';
import type { FieldChange, PortPlan } from './port-plan.js';
import type { IntentSource } from '../intent/intent.js';

export const CONDITION_TYPE = 'HealthCheckInSync';

/** A port's state after applying its plan. */
export type PortOutcome =
  | Exclude<PortPlan, { state: 'patch' }>
  | { readonly state: 'patched'; readonly source: IntentSource; readonly changes: readonly FieldChange[] }
  | { readonly state: 'patch_failed'; readonly source: IntentSource; readonly changes: readonly FieldChange[]; readonly error: string };

export interface PortReport {
  readonly port: SlimServicePort;
  readonly healthCheck?: string;
  readonly outcome: PortOutcome;
  readonly warnings: readonly string[];
}

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

const REASON_OF: Record<PortOutcome['state'], Reason> = {
  in_sync: 'InSync',
  patched: 'Patched',
  drifted: 'Drifted',
  patch_failed: 'PatchFailed',
  invalid: 'InvalidIntent',
  conflict: 'Conflict',
  hold: 'RolloutInProgress',
  no_intent: 'NoIntent',
  not_ready: 'BackendNotReady',
};

/** The Service's reason is its worst port's: problems first, then waiting, then good news. */
const SEVERITY: readonly Reason[] = ['InvalidIntent', 'Conflict', 'PatchFailed', 'Drifted', 'RolloutInProgress', 'BackendNotReady', 'Patched', 'InSync', 'NoIntent'];

const STATUS_OF: Record<Reason, SlimCondition['status']> = {
  InSync: 'True',
  Patched: 'True',
  Drifted: 'False',
  PatchFailed: 'False',
  InvalidIntent: 'False',
  Conflict: 'False',
  RolloutInProgress: 'False',
  NoIntent: 'Unknown',
  BackendNotReady: 'Unknown',
  NotManaged: 'Unknown',
};

export function metricStateOf(outcome: PortOutcome): MetricState {
  switch (outcome.state) {
    case 'in_sync':
    case 'patched':
      return 'in_sync';
    case 'drifted':
    case 'patch_failed':
    case 'hold':
      return 'drifted';
    case 'invalid':
      return 'invalid';
    case 'conflict':
      return 'conflict';
    case 'no_intent':
      return 'no_intent';
    case 'not_ready':
      return 'not_ready';
  }
}

/** 1 while the live check differs from intent (the contract's drift gauge). */
export function isDrift(outcome: PortOutcome): boolean {
  return outcome.state === 'drifted' || outcome.state === 'patch_failed' || (outcome.state === 'conflict' && outcome.changes.length > 0);
}

const show = (v: string | number) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const changeText = (changes: readonly FieldChange[], arrow: string) => changes.map((c) => `${c.field} ${show(c.live)} ${arrow} ${show(c.intended)}`).join(', ');

export function portLabel(port: SlimServicePort): string {
  return port.name ? `${port.name}/${port.port}` : String(port.port);
}

export function describeOutcome(o: PortOutcome): string {
  switch (o.state) {
    case 'in_sync':
      // Name the BackendConfig for the fields it owns: the lower source gave only the rest.
      if (o.ownedBy) {
        const owned = `${o.ownedBy.fields.join(', ')} from BackendConfig ${o.ownedBy.backendConfig}`;
        return o.source === 'BackendConfig' ? `in sync with BackendConfig ${o.ownedBy.backendConfig}` : `in sync (${owned}; the rest from ${o.source})`;
      }
      return `in sync with ${o.source}`;
    case 'patched':
      return `patched ${changeText(o.changes, '→')} (from ${o.source})`;
    case 'drifted':
      return `drifted: ${changeText(o.changes, '≠ intended')} (from ${o.source}); ${o.why}`;
    case 'patch_failed':
      return `patch of ${changeText(o.changes, '→')} (from ${o.source}) failed: ${o.error}`;
    case 'conflict':
      return `conflict: ${o.why}`;
    case 'invalid':
      return `invalid intent, nothing sent: ${o.why}`;
    case 'hold':
    case 'no_intent':
    case 'not_ready':
      return o.why;
  }
}

function portLine(r: PortReport): string {
  const warn = r.warnings.length > 0 ? ` [warning: ${r.warnings.join('; ')}]` : '';
  return `port ${portLabel(r.port)} (${r.healthCheck ?? 'no health check'}): ${describeOutcome(r.outcome)}${warn}`;
}

export interface ConditionInput {
  readonly reports: readonly PortReport[];
  readonly previous: SlimCondition | undefined;
  readonly generation: number | undefined;
  readonly now: string;
}

export function buildCondition({ reports, previous, generation, now }: ConditionInput): SlimCondition {
  let reason: Reason = 'NoIntent';
  for (const r of reports) {
    const candidate = REASON_OF[r.outcome.state];
    if (SEVERITY.indexOf(candidate) < SEVERITY.indexOf(reason)) reason = candidate;
  }
  // A check hcsync patched stays "Patched" while it holds, so the user keeps seeing that hcsync
  // (not GKE) set it; "InSync" means it was already right.
  // Its message keeps saying what hcsync changed, so a settled Service is not rewritten.
  if (reason === 'InSync' && previous?.reason === 'Patched') {
    return conditionWith({ status: 'True', reason: 'Patched', message: previous.message, previous, generation, now });
  }
  const status = STATUS_OF[reason];
  const message = reports.length === 0 ? 'no Service port is a backend of an Ingress' : reports.map(portLine).join('; ');
  return conditionWith({ status, reason, message, previous, generation, now });
}

export function notManagedCondition(why: string, previous: SlimCondition | undefined, generation: number | undefined, now: string): SlimCondition {
  return conditionWith({ status: 'Unknown', reason: 'NotManaged', message: why, previous, generation, now });
}

function conditionWith(c: { status: SlimCondition['status']; reason: Reason; message: string; previous: SlimCondition | undefined; generation: number | undefined; now: string }): SlimCondition {
  const lastTransitionTime = c.previous && c.previous.status === c.status ? c.previous.lastTransitionTime : c.now;
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
    !previous ||
    previous.status !== next.status ||
    previous.reason !== next.reason ||
    previous.message !== next.message ||
    previous.observedGeneration !== next.observedGeneration
  );
}

export interface PlannedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason:
    | 'HealthCheckPatched'
    | 'HealthCheckDrifted'
    | 'HealthCheckPatchFailed'
    | 'InvalidHealthIntent'
    | 'HealthCheckConflict'
    | 'LivenessProbeFallback';
  readonly note: string;
}

const EVENT_OF: Partial<Record<PortOutcome['state'], Omit<PlannedEvent, 'note'>>> = {
  drifted: { type: 'Warning', reason: 'HealthCheckDrifted' },
  patch_failed: { type: 'Warning', reason: 'HealthCheckPatchFailed' },
  invalid: { type: 'Warning', reason: 'InvalidHealthIntent' },
  conflict: { type: 'Warning', reason: 'HealthCheckConflict' },
};

/**
 * Events for this pass. A patch is always worth an Event (it only happens on a real difference);
 * every other Event follows a change of the condition, so an unchanged state is never repeated —
 * not even across a restart of hcsync, since the condition lives in the cluster.
 */
export function plannedEvents(reports: readonly PortReport[], conditionDidChange: boolean): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  for (const r of reports) {
    const line = portLine(r);
    if (r.outcome.state === 'patched') events.push({ type: 'Normal', reason: 'HealthCheckPatched', note: line });
    if (!conditionDidChange) continue;
    const ev = EVENT_OF[r.outcome.state];
    if (ev) events.push({ ...ev, note: line });
    if ('source' in r.outcome && r.outcome.source === 'livenessProbe') {
      events.push({ type: 'Warning', reason: 'LivenessProbeFallback', note: `port ${portLabel(r.port)}: ${r.warnings.join('; ')}` });
    }
  }
  return events;
}
