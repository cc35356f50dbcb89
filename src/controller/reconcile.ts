// Reconcile one Service key: read state, work out intent per port, plan, apply, report.
// Returns an outcome, as controller-runtime and kube-rs reconcilers do.
import { randomUUID } from 'node:crypto';
import type { LiveHealthCheck, OwnedFields, Scope } from '../model/health-check.js';
import { refOfKey, type SlimCondition, type SlimService } from '../model/kube.js';
import type { Mode } from '../parse/annotations.js';
import { assessService, type BackendReader } from './assess.js';
import {
  CONDITION_TYPE,
  buildCondition,
  conditionChanged,
  isDrift,
  metricStateOf,
  notManagedCondition,
  plannedEvents,
  portLabel,
  type PlannedEvent,
  type PortOutcome,
  type PortReport,
} from '../plan/report.js';
import type { ClusterView } from '../kube/cluster-view.js';
import { classify } from '../gcp/errors.js';
import type { PortPlan } from '../plan/port-plan.js';
import { describeKubeError } from '../kube/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';

export type Outcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeueAfter'; readonly ms: number; readonly why: string }
  | { readonly kind: 'error'; readonly error: Error };

/** What reconcile reads of GCP (as assess does), plus keeping that view current after a write. */
export interface BackendLookup extends BackendReader {
  recordPatch(name: string, scope: Scope, fields: OwnedFields): void;
  forgetHealthCheck(name: string, scope: Scope): void;
}

export interface HealthCheckPatcher {
  patchHealthCheck(target: { name: string; scope: Scope; type: string }, fields: OwnedFields, requestId: string): Promise<void>;
}

export interface StatusWriter {
  writeCondition(service: SlimService, condition: SlimCondition): Promise<void>;
}

export interface EventRecorder {
  emit(service: SlimService, event: PlannedEvent): Promise<void>;
}

export interface ReconcileDeps {
  readonly view: ClusterView;
  readonly backends: BackendLookup;
  readonly patcher: HealthCheckPatcher;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly mode: Exclude<Mode, 'ignore'>;
  readonly inferFromLiveness: boolean;
  readonly allowServiceEnforce?: boolean;
  /** How soon to look again when GKE has not created a backend yet. */
  readonly notReadyRequeueMs: number;
  readonly now?: () => Date;
}

const REJECTED_LIMIT = 10_000;

export class ServiceReconciler {
  /** Patches GCP rejected as invalid (key#port → signature), so one bad patch is not re-sent every pass. */
  private readonly rejected = new Map<string, string>();

  constructor(private readonly deps: ReconcileDeps) {}

  reconcile(key: string): Promise<Outcome> {
    return reconcileService(key, this.deps, this.rejected);
  }
}

async function reconcileService(key: string, deps: ReconcileDeps, rejected: Map<string, string>): Promise<Outcome> {
  const { namespace, name } = refOfKey(key);
  const svc = deps.view.service(namespace, name);
  const log = deps.log.child({ namespace, service: name });
  if (!svc) {
    deps.metrics.setServiceReport(key, []);
    return { kind: 'done' };
  }
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const previous = svc.status.conditions.find((c) => c.type === CONDITION_TYPE);

  const assessment = await assessService(svc, deps.view, deps.backends, { mode: deps.mode, inferFromLiveness: deps.inferFromLiveness, allowServiceEnforce: deps.allowServiceEnforce ?? true, log });
  if (!assessment.managed) {
    deps.metrics.setServiceReport(key, []);
    // Only Services hcsync reported on before get a NotManaged condition; others are left alone.
    if (previous) {
      const cond = notManagedCondition(assessment.why, previous, svc.metadata.generation, now);
      if (conditionChanged(previous, cond)) await deps.status.writeCondition(svc, cond);
    }
    return { kind: 'done' };
  }

  const reports: PortReport[] = [];
  let transient: Error | undefined;
  let notReady = false;
  for (const { port, live, intent, plan, backend } of assessment.ports) {
    const warnings = intent.kind === 'desired' || intent.kind === 'none' ? intent.warnings : [];
    // planPort only plans a patch against a live check.
    const applied = plan.state === 'patch' && live ? await applyPatch(`${key}#${port.port}`, live, plan, deps, rejected, log) : { outcome: plan as PortOutcome };
    if (applied.transient) transient = applied.transient;
    if (applied.outcome.state === 'not_ready') notReady = true;
    const hcName = backend?.healthCheck?.name;
    reports.push({ port, ...(hcName ? { healthCheck: hcName } : {}), outcome: applied.outcome, warnings });
  }

  deps.metrics.setServiceReport(
    key,
    reports.map((r) => ({
      labels: { namespace, service: name, port: portLabel(r.port), health_check: r.healthCheck ?? '' },
      drift: isDrift(r.outcome),
      state: metricStateOf(r.outcome),
    })),
  );

  const condition = buildCondition({ reports, previous, generation: svc.metadata.generation, now });
  const changed = conditionChanged(previous, condition);
  try {
    if (changed) await deps.status.writeCondition(svc, condition);
  } catch (err) {
    return { kind: 'error', error: new Error(`writing the condition: ${describeKubeError(err)}`) };
  }
  // Events are best effort, as in client-go's recorder: a failed Event never fails the reconcile.
  for (const ev of plannedEvents(reports, changed)) {
    await deps.events.emit(svc, ev).catch((err: unknown) => log.warn('event not recorded', { reason: ev.reason, error: describeKubeError(err) }));
  }
  if (changed) log.info('condition updated', { reason: condition.reason, status: condition.status, message: condition.message });

  if (transient) return { kind: 'error', error: transient };
  if (notReady) return { kind: 'requeueAfter', ms: deps.notReadyRequeueMs, why: 'a backend is not ready in GCP yet' };
  return { kind: 'done' };
}

/** Sends one planned patch and turns GCP's answer into the port's outcome. */
async function applyPatch(
  memoKey: string,
  live: LiveHealthCheck,
  plan: Extract<PortPlan, { state: 'patch' }>,
  deps: ReconcileDeps,
  rejected: Map<string, string>,
  log: Logger,
): Promise<{ outcome: PortOutcome; transient?: Error }> {
  const signature = JSON.stringify([live.id, plan.patch]);
  if (rejected.get(memoKey) === signature) {
    return { outcome: { state: 'patch_failed', source: plan.source, changes: plan.changes, error: 'GCP rejected this patch before; not re-sent until the intent or the check changes' } };
  }
  try {
    await deps.patcher.patchHealthCheck({ name: live.name, scope: live.scope, type: live.type }, plan.patch, randomUUID());
  } catch (err) {
    const e = classify(err);
    deps.metrics.patchesTotal.inc({ result: 'error' });
    log.warn('health check patch failed', { health_check: live.name, error_class: e.errorClass, error: e.message });
    if (e.errorClass === 'not_found') {
      deps.backends.forgetHealthCheck(live.name, live.scope);
      return { outcome: { state: 'not_ready', why: `health check ${live.name} is gone (GKE may be recreating it)` } };
    }
    const outcome: PortOutcome = { state: 'patch_failed', source: plan.source, changes: plan.changes, error: e.message };
    if (e.errorClass !== 'invalid') return { outcome, transient: e };
    // A 400 will not pass on retry: remember it (bounded) until the intent or the check changes.
    if (rejected.size >= REJECTED_LIMIT) rejected.delete(rejected.keys().next().value!);
    rejected.set(memoKey, signature);
    return { outcome };
  }
  deps.backends.recordPatch(live.name, live.scope, plan.patch);
  deps.metrics.patchesTotal.inc({ result: 'success' });
  rejected.delete(memoKey);
  log.info('health check patched', { health_check: live.name, changes: plan.changes, source: plan.source });
  return { outcome: { state: 'patched', source: plan.source, changes: plan.changes } };
}
