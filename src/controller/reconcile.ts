// Reconcile one Service key: assess (intent and plan per port), apply planned patches, report
// (condition, Events, metrics). Returns an Outcome and never throws (controller/outcome.ts).
import { randomUUID } from 'node:crypto';
import type { LiveHealthCheck } from '../model/health-check.js';
import { portLabel, refOfKey, type SlimCondition, type SlimService } from '../model/kube.js';
import type { BackendLookup, ClusterView, EventRecorder, HealthCheckPatcher, StatusWriter } from '../model/ports.js';
import { CONDITION_TYPE } from '../model/report.js';
import type { ActiveMode } from '../parse/annotations.js';
import { assessService, reportOf, type AssessOptions, type ServiceAssessment } from '../plan/assess.js';
import { buildCondition, conditionChanged, notManagedCondition } from '../plan/condition.js';
import { plannedEvents } from '../plan/events.js';
import type { PortOutcome, PortReport } from '../plan/outcome.js';
import type { PortPlan } from '../plan/port-plan.js';
import { isDrift, metricStateOf } from '../plan/states.js';
import { classify, type GcpError } from '../gcp/errors.js';
import { describeKubeError } from '../kube/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { isTerminal, type Outcome } from './outcome.js';

export interface ReconcileDeps {
  readonly view: ClusterView;
  readonly backends: BackendLookup;
  readonly patcher: HealthCheckPatcher;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly mode: ActiveMode;
  readonly inferFromLiveness: boolean;
  readonly allowServiceEnforce?: boolean;
  /** How soon to look again when GKE has not created a backend yet. */
  readonly notReadyRequeueMs: number;
  readonly now?: () => Date;
}

const REJECTED_LIMIT = 10_000;

/** Reconciles Service keys; it keeps the memory of patches GCP rejected across passes. */
export class ServiceReconciler {
  /** Patches GCP rejected as invalid (key#check → signature), so one bad patch is not re-sent every pass. */
  private readonly rejected = new Map<string, string>();

  constructor(private readonly deps: ReconcileDeps) {}

  /**
   * Brings one Service's health checks in line and reports on them. Every failure — GCP, the
   * status write, or a bug — comes back as an `error` outcome for the error policy to judge;
   * this never rejects.
   */
  async reconcile(key: string): Promise<Outcome> {
    try {
      return await reconcileService(key, this.deps, this.rejected);
    } catch (err) {
      return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
    }
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

  const assessed = await assessWithFreshBackends(svc, deps, log);
  if (!assessed.ok) return { kind: 'error', error: assessed.error };
  const assessment = assessed.assessment;
  if (!assessment.managed) {
    deps.metrics.setServiceReport(key, []);
    // Only Services hcsync reported on before get a NotManaged condition; others are left alone.
    if (previous) {
      const cond = notManagedCondition(assessment.why, previous, svc.metadata.generation, now);
      if (conditionChanged(previous, cond)) {
        const failed = await writeCondition(deps, svc, cond);
        if (failed) return failed;
      }
    }
    return { kind: 'done' };
  }

  const reports: PortReport[] = [];
  const errors: GcpError[] = [];
  let notReady = false;
  // One entry per (Service port, health check): a port behind two load balancers has two checks.
  for (const entry of assessment.ports) {
    const { live, plan } = entry;
    // planPort only plans a patch against a live check. Rejected patches are remembered per check.
    const applied =
      plan.state === 'patch' && live
        ? await applyPatch(`${key}#${entry.id}`, live, plan, deps, rejected, log)
        : { outcome: plan as PortOutcome };
    if (applied.error) errors.push(applied.error);
    if (applied.outcome.state === 'not_ready') notReady = true;
    reports.push(reportOf(entry, applied.outcome));
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
  if (changed) {
    const failed = await writeCondition(deps, svc, condition);
    if (failed) return failed;
  }
  // Events are best effort, as in client-go's recorder: a failed Event never fails the reconcile.
  for (const ev of plannedEvents(reports, changed)) {
    await deps.events
      .emit(svc, ev)
      .catch((err: unknown) => log.warn('event not recorded', { reason: ev.reason, error: describeKubeError(err) }));
  }
  if (changed) log.info('condition updated', { reason: condition.reason, status: condition.status, message: condition.message });

  // A transient failure (retry with backoff) matters more than a terminal one (GCP's 400).
  const error = errors.find((e) => !isTerminal(e)) ?? errors[0];
  if (error) return { kind: 'error', error };
  if (notReady) return { kind: 'requeueAfter', ms: deps.notReadyRequeueMs, why: 'a backend is not ready in GCP yet' };
  return { kind: 'done' };
}

/**
 * Assesses the Service from the caches. When an Ingress names a backend service the inventory
 * has not seen (GKE may have just created it), this asks for a re-list of GCP — which the
 * inventory grants at most once per its minimum interval — and assesses again; otherwise the
 * port stays BackendNotReady and the key is requeued.
 */
async function assessWithFreshBackends(
  svc: SlimService,
  deps: ReconcileDeps,
  log: Logger,
): Promise<{ ok: true; assessment: ServiceAssessment } | { ok: false; error: GcpError }> {
  const opts: AssessOptions = {
    mode: deps.mode,
    inferFromLiveness: deps.inferFromLiveness,
    allowServiceEnforce: deps.allowServiceEnforce ?? true,
    onUnreadableIngress: (ing, error) => log.warn('unreadable ingress backends annotation', { ingress: ing.metadata.name, error }),
  };
  const first = assessService(svc, deps.view, deps.backends, opts);
  if (!first.managed || first.unseenBackends.length === 0) return { ok: true, assessment: first };
  try {
    if (!(await deps.backends.refreshIfDue())) return { ok: true, assessment: first };
  } catch (err) {
    return { ok: false, error: classify(err) };
  }
  log.debug('re-listed GCP for backends not seen yet', { backend_services: first.unseenBackends });
  return { ok: true, assessment: assessService(svc, deps.view, deps.backends, opts) };
}

/** Writes the condition; a failure becomes the reconcile's error outcome. */
async function writeCondition(deps: ReconcileDeps, svc: SlimService, condition: SlimCondition): Promise<Outcome | undefined> {
  try {
    await deps.status.writeCondition(svc, condition);
    return undefined;
  } catch (err) {
    return { kind: 'error', error: new Error(`writing the condition: ${describeKubeError(err)}`) };
  }
}

/** Sends one planned patch and turns GCP's answer into the port's outcome (and the error, for the error policy). */
async function applyPatch(
  memoKey: string,
  live: LiveHealthCheck,
  plan: Extract<PortPlan, { state: 'patch' }>,
  deps: ReconcileDeps,
  rejected: Map<string, string>,
  log: Logger,
): Promise<{ outcome: PortOutcome; error?: GcpError }> {
  const signature = JSON.stringify([live.id, plan.patch]);
  if (rejected.get(memoKey) === signature) {
    return {
      outcome: {
        state: 'patch_failed',
        source: plan.source,
        changes: plan.changes,
        error: 'GCP rejected this patch before; not re-sent until the intent or the check changes',
      },
    };
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
    if (isTerminal(e)) {
      // A 400 will not pass on retry: remember it (bounded) until the intent or the check changes.
      const oldest = rejected.keys().next();
      if (rejected.size >= REJECTED_LIMIT && !oldest.done) rejected.delete(oldest.value);
      rejected.set(memoKey, signature);
    }
    return { outcome: { state: 'patch_failed', source: plan.source, changes: plan.changes, error: e.message }, error: e };
  }
  deps.backends.recordPatch(live.name, live.scope, plan.patch);
  deps.metrics.patchesTotal.inc({ result: 'success' });
  rejected.delete(memoKey);
  log.info('health check patched', { health_check: live.name, changes: plan.changes, source: plan.source });
  return { outcome: { state: 'patched', source: plan.source, changes: plan.changes } };
}
