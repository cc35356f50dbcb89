// Desired vs live for one Service port → what to do. Pure.
import {
  OWNED_FIELDS,
  protocolBlockFor,
  type BackendKind,
  type LiveHealthCheck,
  type OwnedField,
  type OwnedFields,
} from '../model/health-check.js';
import { portLabel, type SlimServicePort } from '../model/kube.js';
import type { ActiveMode } from '../parse/annotations.js';
import type { IntentSource, PortIntent } from '../intent/intent.js';
import { validateTiming } from '../intent/validate.js';

export interface FieldChange {
  readonly field: OwnedField;
  readonly live: string | number;
  readonly intended: string | number;
}

/** The state of one port after planning (and, for `patch`, before applying). */
export type PortPlan =
  | {
      readonly state: 'in_sync';
      readonly source: IntentSource;
      readonly ownedBy?: { readonly backendConfig: string; readonly fields: readonly OwnedField[] };
    }
  | { readonly state: 'patch'; readonly source: IntentSource; readonly changes: readonly FieldChange[]; readonly patch: OwnedFields }
  | { readonly state: 'drifted'; readonly source: IntentSource; readonly changes: readonly FieldChange[]; readonly why: string }
  | { readonly state: 'conflict'; readonly why: string; readonly changes: readonly FieldChange[] }
  | { readonly state: 'invalid'; readonly why: string }
  | { readonly state: 'hold'; readonly why: string }
  | { readonly state: 'no_intent'; readonly why: string }
  | { readonly state: 'not_ready'; readonly why: string };

/** Live values as GCE means them: an absent path is "/", an absent host is "" (docs/gke-ingress-healthchecks.md §6.1). */
function liveOwnedValue(live: LiveHealthCheck, field: OwnedField): string | number {
  switch (field) {
    case 'requestPath':
      return live.block?.requestPath || '/';
    case 'host':
      return live.block?.host ?? '';
    case 'checkIntervalSec':
      return live.checkIntervalSec;
    case 'timeoutSec':
      return live.timeoutSec;
  }
}

/** The owned fields whose intended value differs from the live check, in OWNED_FIELDS order. */
export function diffFields(intended: OwnedFields, live: LiveHealthCheck): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of OWNED_FIELDS) {
    const want = intended[field];
    if (want === undefined) continue;
    const have = liveOwnedValue(live, field);
    if (have !== want) changes.push({ field, live: have, intended: want });
  }
  return changes;
}

export interface PlanInput {
  readonly intent: PortIntent;
  /** Undefined when GKE has not created the check yet (or it was just deleted). */
  readonly live: LiveHealthCheck | undefined;
  readonly mode: ActiveMode;
  /** The Service port the check should probe and the backend kind: to tell a check on another port (fixed, named). */
  readonly serving?: { readonly port: SlimServicePort; readonly backendKind: BackendKind };
  /** Who the plan is for (e.g. "Service ns/name port http/80"), named in every rejection the plan itself makes. */
  readonly subject?: string;
}

/**
 * Why this check does not probe the Service port's serving port, or undefined when it does (or
 * cannot be told). ingress-gce's port model (docs §2, §5.2 step 4): NEG checks use
 * `USE_SERVING_PORT`; IG checks probe the nodePort (`port`, no specification or `USE_FIXED_PORT`).
 * Anything else — a transparent health check's fixed 7877, a BackendConfig `port`, a hand-set or
 * named port — probes a port whose path and host the app's probe and annotations do not speak
 * for: not the app's to change (docs §5.8 "Never change type, portSpecification or port";
 * "Skip HCs in THC mode").
 */
export function portNotServing(live: LiveHealthCheck, serving: { port: SlimServicePort; backendKind: BackendKind }): string | undefined {
  const spec = live.block?.portSpecification ?? '';
  const port = live.block?.port;
  if (spec === 'USE_SERVING_PORT') return undefined;
  if (spec === 'USE_NAMED_PORT') return `the check probes a named port (portSpecification USE_NAMED_PORT), not the serving port`;
  if (spec === '' && port === undefined) return undefined;
  if (serving.backendKind === 'ig' && port !== undefined && port === serving.port.nodePort) return undefined;
  return `the check probes fixed port ${port ?? '?'}${spec ? ` (portSpecification ${spec})` : ''}, not the serving port of ${portLabel(serving.port)} (a transparent health check, a BackendConfig port or a hand edit)`;
}

/**
 * What to do about one port: patch the differing fields (enforce), or say why not — invalid
 * intent, no check yet, a non-HTTP check, a rollout, no intent, a conflict, fields a BackendConfig
 * owns, or observe mode. A plan is a value, so reconcile, `plan` and `diagnose` share it.
 */
export function planPort({ intent, live, mode, serving, subject }: PlanInput): PortPlan {
  if (intent.kind === 'invalid') return { state: 'invalid', why: intent.error };
  if (!live) return { state: 'not_ready', why: 'GKE has not created this backend’s health check yet' };
  if (!protocolBlockFor(live.type)) {
    return { state: 'no_intent', why: `the check is of type ${live.type}; hcsync manages HTTP, HTTPS and HTTP2 checks only` };
  }
  // A BackendConfig port owns the whole check (intent gives only its fields); otherwise a check on
  // another port than the serving one is left alone.
  const bcPort = intent.kind === 'desired' && intent.backendConfig?.port !== undefined;
  const elsewhere = serving && !bcPort ? portNotServing(live, serving) : undefined;
  if (elsewhere) return { state: 'no_intent', why: `${elsewhere}; it is not the app's to change, so hcsync leaves it alone` };
  if (intent.kind === 'hold') return { state: 'hold', why: intent.why };
  if (intent.kind === 'none') return { state: 'no_intent', why: intent.why };

  const ownerChanges = intent.backendConfig ? diffFields(intent.backendConfig.fields, live) : [];
  if (intent.conflict) return { state: 'conflict', why: intent.conflict, changes: ownerChanges };

  const changes = diffFields(intent.desired, live);
  const patch: { -readonly [K in OwnedField]?: OwnedFields[K] } = {};
  for (const c of changes) (patch as Record<string, string | number>)[c.field] = c.intended;

  // Validate the check as it would end up, since GCE rejects timeout > interval as a pair.
  const timeout = patch.timeoutSec ?? live.timeoutSec;
  const interval = patch.checkIntervalSec ?? live.checkIntervalSec;
  if (changes.length > 0) {
    const bad = validateTiming(timeout, interval);
    if (bad) {
      const who = subject ? `${subject}: ` : '';
      return {
        state: 'invalid',
        why: `${who}${bad} once applied to the live check (from ${intent.source}); timeoutSec must not exceed checkIntervalSec`,
      };
    }
  }

  if (intent.backendConfig && ownerChanges.length > 0) {
    // ingress-gce re-imposes BackendConfig fields on its next sync; hcsync only reports.
    return {
      state: 'drifted',
      source: 'BackendConfig',
      changes: [...ownerChanges, ...changes],
      why: `BackendConfig ${intent.backendConfig.name} owns ${ownerChanges.map((c) => c.field).join(', ')}; ingress-gce restores it on its next sync`,
    };
  }
  if (changes.length === 0) {
    const bc = intent.backendConfig;
    return bc
      ? { state: 'in_sync', source: intent.source, ownedBy: { backendConfig: bc.name, fields: Object.keys(bc.fields) as OwnedField[] } }
      : { state: 'in_sync', source: intent.source };
  }
  if (mode === 'observe')
    return { state: 'drifted', source: intent.source, changes, why: 'observe mode: hcsync reports but does not patch' };
  return { state: 'patch', source: intent.source, changes, patch };
}

/** What `hcsync plan` shows for a port: hcsync would patch it, there is nothing to do, or there is something to report. */
export type PlanAction = 'patch' | 'none' | 'report';

/** The action for a plan: a patch, nothing (in sync, or no intent), or a report (every other state needs a human). */
export function actionOf(plan: PortPlan): PlanAction {
  if (plan.state === 'patch') return 'patch';
  return plan.state === 'in_sync' || plan.state === 'no_intent' ? 'none' : 'report';
}
