// Reconcile one Service key: assess (intent and plan per port), apply planned patches, report
// (condition, Events, metrics). Returns an Outcome and never throws (controller/outcome.ts).
// Writes are pipelined: a pass sends a patch and returns without waiting for its Operation
// (patches-in-flight.ts); when the Operation settles, the Service is reconciled again and that
// pass reports it (`Patched` only for an Operation DONE without error).
import { randomUUID } from 'node:crypto';
import { scopeKey, type LiveHealthCheck, type OwnedFields, type Scope } from '../model/health-check.js';
import { portLabel, refOfKey, type SlimCondition, type SlimService } from '../model/kube.js';
import type { BackendLookup, ClusterView, EventRecorder, HealthCheckPatcher, PolicyWriter, StatusWriter } from '../model/ports.js';
import { CONDITION_TYPE } from '../model/report.js';
import type { ActiveMode } from '../parse/annotations.js';
import { assessService, reportOf, type AssessOptions, type PortAssessment, type ServiceAssessment } from '../plan/assess.js';
import { buildCondition, conditionChanged, notManagedCondition } from '../plan/condition.js';
import { plannedEvents } from '../plan/events.js';
import type { PortOutcome, PortReport } from '../plan/outcome.js';
import { diffFields, type PortPlan } from '../plan/port-plan.js';
import { isDrift, metricStateOf } from '../plan/states.js';
import { OperationTimeoutError, classify, type GcpError } from '../gcp/errors.js';
import { describeKubeError } from '../kube/errors.js';
import { sameServiceApartFromStatus } from '../kube/service-index.js';
import type { Metrics } from '../observability/metrics.js';
import { lazyChild, type Logger } from '../observability/log.js';
import { NotLeaderError } from './fence.js';
import { isTerminal, type Outcome } from './outcome.js';
import { deleteOrphanPolicy, reconcileGateway, type GatewayPass } from './gateway-reconcile.js';
import { PassRecorder, readsUnchanged, type PassReads } from './pass-reads.js';
import { PatchesInFlight } from './patches-in-flight.js';
import { PendingRereads } from './rereads.js';
import { WriteDroppedError } from './write-limiter.js';

export interface ReconcileDeps {
  readonly view: ClusterView;
  readonly backends: BackendLookup;
  readonly patcher: HealthCheckPatcher;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
  /** hcsync's HealthCheckPolicy writer: Services behind GKE Gateways are reconciled too (gateway-reconcile.ts); without it, Ingress only. */
  readonly policies?: PolicyWriter;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly mode: ActiveMode;
  readonly inferFromLiveness: boolean;
  readonly allowServiceEnforce?: boolean;
  /** How soon to look again when GKE has not created a backend yet. */
  readonly notReadyRequeueMs: number;
  /** How long after a patch its check is re-read once (default 10 s; docs/gke-ingress-healthchecks.md §5.7). */
  readonly reverifyAfterMs?: number;
  /** More re-reads pending than this: a due one is left to one coalesced list instead of a GET (default 500; rereadDue). */
  readonly rereadGetsMax?: number;
  /** How long ingress-gce gets to apply a BackendConfig change before its fields count as drifted (default 2 min). */
  readonly backendConfigGraceMs?: number;
  /** At most this many patches in flight (reserved, queued in the write limiter, or awaiting their Operation); default 500. */
  readonly maxPatchesInFlight?: number;
  /**
   * Told which Services to reconcile again when a patch's Operation settles (the controller re-queues
   * them); `urgent` when it did not apply (failed, or not confirmed in time): the next pass may re-send it.
   */
  readonly onPatchSettled?: (keys: readonly string[], urgent: boolean) => void;
  readonly now?: () => Date;
}

const DEFAULT_MAX_PATCHES_IN_FLIGHT = 500;

const REJECTED_LIMIT = 10_000;
/** Pending re-reads and unreported patches are bounded like the rejected memo. */
const MEMO_LIMIT = 10_000;
/**
 * ingress-gce's update is GET → merge → PUT without a precondition (docs §5.7): a PUT built from a
 * GET made before our patch lands within its sync, seconds later. 10 s covers that window.
 */
const DEFAULT_REVERIFY_AFTER_MS = 10_000;
/**
 * ingress-gce re-syncs on BackendConfig events (docs §5.1) but its queue can lag in a big cluster:
 * two minutes before a difference in BackendConfig-owned fields is reported as Drifted.
 */
const DEFAULT_BACKENDCONFIG_GRACE_MS = 120_000;

/** A GCP answer to a patch that was a 400: the signature of what was sent, and GCP's own words. */
interface Rejection {
  readonly signature: string;
  readonly message: string;
}

/** What reconcile remembers across passes; every map is bounded. */
interface Memory {
  /** Checks with a patch in flight: no second PATCH for them until it settles. */
  readonly patches: PatchesInFlight;
  /** Patches whose Operation settled with an error (key → port → the outcome), reported by the next pass instead of a re-send. */
  readonly failed: Map<string, Map<string, SettledFailure>>;
  /** While draining for shutdown, settled patches' Services are collected here instead of re-queued. */
  readonly drain: { active: boolean; readonly keys: Set<string> };
  /** Patches GCP rejected as invalid (key#port → what was sent and why it failed), so one bad patch is not re-sent every pass. */
  readonly rejected: Map<string, Rejection>;
  /** Checks to re-read once (scope/name → when and for which Service), indexed by Service key too. */
  readonly rereads: PendingRereads;
  /** Services waiting for a coalesced list to do their due re-reads (rereadDue). */
  readonly listWaiters: Set<string>;
  /** Patches applied whose condition write failed (key → port → the `patched` outcome), reported by the next pass that writes. */
  readonly unreported: Map<string, Map<string, UnreportedPatch>>;
  /** Since when each Service's own HealthCheckPolicy has waited for GKE to apply it (controller/gateway-reconcile.ts). */
  readonly unappliedSince: Map<string, number>;
  /**
   * HealthCheckPolicies written by a pass that reported nothing (an Ingress patch of the Service in
   * flight, or a failed condition write): key → Gateway report id → the `patched` outcome, reported by
   * the next pass that reports, since that pass sees the policy already written (held or in sync).
   */
  readonly unreportedPolicies: Map<string, Map<string, PortOutcome & { state: 'patched' }>>;
  /**
   * What the last pass over each Service version read, kept only when that pass ended settled
   * (settledPass): a pass that would read the very same objects returns at once (pass-reads.ts).
   * Weak: a Service version gone from the cache takes its record with it.
   */
  settled: WeakMap<SlimService, PassReads>;
  /**
   * The record of a pass that was settled but for its own condition write (key → the Service it
   * wrote for, the condition written, its reads): the write's echo is a new Service object, which
   * adopts the record when it differs from the one written for only by that very condition
   * (adoptAfterWrite). Without it, the first resync after any condition write (every Service
   * after convergence) would be a full pass.
   */
  readonly written: Map<string, { readonly service: SlimService; readonly condition: SlimCondition; readonly reads: PassReads }>;
}

interface SettledFailure {
  readonly healthCheck: string;
  readonly outcome: PortOutcome;
  readonly error?: GcpError;
}

interface UnreportedPatch {
  readonly healthCheck: string;
  readonly patch: OwnedFields;
  readonly outcome: PortOutcome & { state: 'patched' };
}

/** Reconciles Service keys; it keeps the memory of rejected, unverified and unreported patches across passes. */
export class ServiceReconciler {
  private readonly memory: Memory;

  constructor(private readonly deps: ReconcileDeps) {
    this.memory = {
      rejected: new Map(),
      rereads: new PendingRereads(MEMO_LIMIT),
      listWaiters: new Set(),
      unreported: new Map(),
      patches: new PatchesInFlight(deps.maxPatchesInFlight ?? DEFAULT_MAX_PATCHES_IN_FLIGHT),
      failed: new Map(),
      drain: { active: false, keys: new Set() },
      unappliedSince: new Map(),
      unreportedPolicies: new Map(),
      settled: new WeakMap(),
      written: new Map(),
    };
  }

  /**
   * Forgets every settled pass, so each Service is assessed in full on its next pass. The
   * controller calls it whenever this replica starts or stops leading: a pass is only ever reused
   * within one term.
   */
  forgetSettledPasses(): void {
    this.memory.settled = new WeakMap();
    this.memory.written.clear();
  }

  /** Checks with a patch in flight (for tests and shutdown). */
  get patchesInFlight(): number {
    return this.memory.patches.size;
  }

  /** Shutdown begins: from now on a settled patch's Service is kept for drain() instead of re-queued. */
  holdSettled(): void {
    this.memory.drain.active = true;
  }

  /**
   * Shutdown, once the work queue stopped: waits until no patch is in flight (their Operations
   * settle, or are abandoned when the fence closes), then reconciles once more each Service whose
   * patch settled since holdSettled(), so a patch applied during shutdown is still reported.
   */
  async drain(): Promise<void> {
    this.memory.drain.active = true;
    await this.memory.patches.idle();
    const keys = [...this.memory.drain.keys];
    this.memory.drain.keys.clear();
    for (const key of keys) await this.reconcile(key);
  }

  /**
   * Brings one Service's health checks in line and reports on them. Every failure — GCP, the
   * status write, or a bug — comes back as an `error` outcome for the error policy to judge;
   * this never rejects.
   */
  async reconcile(key: string): Promise<Outcome> {
    try {
      return await reconcileService(key, this.deps, this.memory);
    } catch (err) {
      return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
    }
  }
}

/** The outcome of a pass that found its Service as settled as before. */
const DONE: Outcome = Object.freeze({ kind: 'done' });

/**
 * States whose report is the assessment's plan as is (no patch sent, nothing waited for or
 * remembered across passes): a pass that ended with only these, done, and wrote nothing would end
 * the same with the same inputs. `patched`, `patch_failed` and `not_ready` involve GCP's answers
 * or a requeue, so they never count.
 */
const SETTLED_STATES: ReadonlySet<PortOutcome['state']> = new Set(['in_sync', 'no_intent', 'drifted', 'hold', 'invalid', 'conflict']);

/**
 * Whether this Service's pass can be skipped: its last pass over this very Service object ended
 * settled, nothing is pending for it (no patch in flight anywhere, no re-read, no unreported or
 * failed patch, no policy awaiting GKE), and everything that pass read is still the same object.
 * Then a full pass would compute the same condition (unchanged: no write), no Event and the same
 * metrics, which the last pass set already (issue 11: a steady resync of 5,000 in-sync Services).
 */
function settledAsBefore(key: string, svc: SlimService, deps: ReconcileDeps, memory: Memory): boolean {
  if (
    memory.patches.size > 0 ||
    memory.rereads.pending(key) ||
    memory.failed.has(key) ||
    memory.unreported.has(key) ||
    memory.unreportedPolicies.has(key) ||
    memory.unappliedSince.has(key)
  )
    return false;
  const reads = memory.settled.get(svc) ?? adoptAfterWrite(key, svc, memory);
  return reads !== undefined && readsUnchanged(reads, svc, deps.view, deps.backends);
}

/**
 * The record of the pass that wrote this Service's condition, for the Service version that write
 * produced: taken when `svc` differs from the version written for only in its status (what hcsync
 * reads of a Service is the same: kube/service-index.ts) and carries exactly the condition written.
 * A full pass over it would then plan the same, find the condition unchanged (a `Patched` one is
 * kept while its checks are in sync, plan/condition.ts) and emit nothing.
 */
function adoptAfterWrite(key: string, svc: SlimService, memory: Memory): PassReads | undefined {
  const w = memory.written.get(key);
  if (!w) return undefined;
  memory.written.delete(key);
  const now = svc.status.conditions.find((c) => c.type === CONDITION_TYPE);
  // The fields a pass compares (conditionChanged); the API server may store lastTransitionTime at another precision.
  if (!now || conditionChanged(now, w.condition) || !sameServiceApartFromStatus(w.service, svc)) return undefined;
  memory.settled.set(svc, w.reads);
  return w.reads;
}

/**
 * Reports whose condition the next pass keeps as written: all of SETTLED_STATES, or in sync with
 * patches reported (the condition stays `Patched` while the checks hold; `patched` and `in_sync`
 * are the same metric state).
 */
function keptAfterWrite(reports: readonly PortReport[]): boolean {
  return (
    reports.every((r) => SETTLED_STATES.has(r.outcome.state)) ||
    reports.every((r) => r.outcome.state === 'in_sync' || r.outcome.state === 'patched' || r.outcome.state === 'no_intent')
  );
}

async function reconcileService(key: string, deps: ReconcileDeps, memory: Memory): Promise<Outcome> {
  const { namespace, name } = refOfKey(key);
  const svc = deps.view.service(namespace, name);
  if (svc && settledAsBefore(key, svc, deps, memory)) return DONE;
  const log = lazyChild(deps.log, { namespace, service: name });
  if (!svc) {
    deps.metrics.setServiceReport(key, []);
    forgetKey(memory, key);
    const orphan = deps.policies ? await deleteOrphanPolicy(namespace, name, { ...deps, policies: deps.policies }, log) : undefined;
    return orphan ? { kind: 'error', error: orphan } : { kind: 'done' };
  }
  const nowDate = (deps.now ?? (() => new Date()))();
  const now = nowDate.toISOString();
  const nowMs = nowDate.getTime();
  const previous = svc.status.conditions.find((c) => c.type === CONDITION_TYPE);

  // Re-reads that are due come first, so this pass plans against what GCP has now.
  let reread: ReadonlySet<string>;
  try {
    reread = memory.rereads.pending(key) ? await rereadDue(key, nowMs, deps, memory, log) : NO_REREADS;
  } catch (err) {
    return { kind: 'error', error: classify(err) };
  }

  // This pass reads through a recorder: when it ends settled, the next one may be skipped (settledAsBefore).
  const rec = new PassRecorder(svc, deps.view, deps.backends);
  const assessed = await assessWithFreshBackends(svc, { ...deps, view: rec.view, backends: rec.backends }, log);
  if (!assessed.ok) return { kind: 'error', error: assessed.error };
  const assessment = assessed.assessment;
  // The Gateway half (GKE Gateway backends): its ports join the same condition, Events and metrics.
  const gw: GatewayPass | undefined = deps.policies
    ? await reconcileGateway(
        svc,
        { ...deps, view: rec.view, backends: rec.backends, policies: deps.policies, unappliedSince: memory.unappliedSince },
        log,
      )
    : undefined;
  if (!assessment.managed && !gw?.managed) {
    deps.metrics.setServiceReport(key, []);
    forgetKey(memory, key);
    // Only Services hcsync reported on before get a NotManaged condition; others are left alone.
    if (previous) {
      const cond = notManagedCondition(assessment.why, previous, svc.metadata.generation, now);
      if (conditionChanged(previous, cond)) {
        const failed = await writeCondition(deps, svc, cond);
        if (failed) return failed;
      }
    }
    return gw?.error ? { kind: 'error', error: gw.error } : { kind: 'done' };
  }

  const reports: PortReport[] = [];
  /** The check id (assessment entry) of each report, in the same order. */
  const reportIds: string[] = [];
  const errors: GcpError[] = [];
  const applied = new Map<string, UnreportedPatch>();
  let notReady = false;
  /** A port's check has a patch in flight: this pass reports nothing; the settling Operation brings the Service back. */
  let inFlight = false;
  let lookAgainAt = Infinity;
  const unreported = memory.unreported.get(key);
  const failedBefore = memory.failed.get(key);
  // One entry per (Service port, health check): a port behind two load balancers has two checks.
  for (const entry of assessment.managed ? assessment.ports : []) {
    const { live, intent } = entry;
    let plan: PortPlan = entry.plan;
    // A BackendConfig just changed: ingress-gce applies it on its next sync (docs §5.1), so a
    // difference in the fields it owns is not drift yet. Hold, and re-read the check when the grace ends.
    if (plan.state === 'drifted' && plan.source === 'BackendConfig' && intent.kind === 'desired' && intent.backendConfig && live) {
      const changedAt = rec.view.backendConfigChangedAt?.(namespace, intent.backendConfig.name);
      const grace = backendConfigGrace(changedAt, nowMs, deps.backendConfigGraceMs ?? DEFAULT_BACKENDCONFIG_GRACE_MS);
      if (grace) {
        plan = {
          state: 'hold',
          why: `BackendConfig ${intent.backendConfig.name} changed ${grace.agoText}; ${plan.why} (${plan.changes.map(describeChange).join(', ')})`,
        };
        scheduleReread(memory, key, live, grace.endsAt);
        lookAgainAt = Math.min(lookAgainAt, grace.endsAt);
      }
    }
    // No second PATCH while one is in flight for this check (this Service's, or another's sharing
    // it), and no report of a check about to change: the Operation settling brings this key back.
    if (live && memory.patches.get(checkKey(live.name, live.scope))) {
      memory.patches.reserve(checkKey(live.name, live.scope), key, entry.id);
      inFlight = true;
      continue;
    }
    // An Operation that settled with an error is reported once by this pass, not re-sent at once
    // (the error policy's backoff decides when; a 400 is remembered in `rejected`).
    const settledFailure = failedBefore?.get(entry.id);
    failedBefore?.delete(entry.id);
    // planPort only plans a patch against a live check.
    const result: PatchResult =
      plan.state === 'patch' && live
        ? settledFailure?.healthCheck === live.name
          ? settledFailure
          : await applyPatch(key, entry.id, live, plan, !reread.has(checkKey(live.name, live.scope)), deps, memory, log)
        : { outcome: plan as PortOutcome };
    if ('pending' in result) {
      inFlight = true;
      continue;
    }
    if (result.error) errors.push(result.error);
    let outcome = result.outcome;
    if (outcome.state === 'patched' && plan.state === 'patch' && live) {
      applied.set(entry.id, { healthCheck: live.name, patch: plan.patch, outcome });
      // One re-verify per patch: a re-apply made right after a re-read is not re-verified again.
      if (!reread.has(checkKey(live.name, live.scope))) {
        const dueAt = nowMs + (deps.reverifyAfterMs ?? DEFAULT_REVERIFY_AFTER_MS);
        scheduleReread(memory, key, live, dueAt);
        lookAgainAt = Math.min(lookAgainAt, dueAt);
      }
    }
    // A patch applied by an earlier pass whose condition write failed: report it now, once.
    const earlier = unreported?.get(entry.id);
    if (earlier && outcome.state === 'in_sync' && live?.name === earlier.healthCheck && stillHolds(earlier.patch, live)) {
      outcome = earlier.outcome;
    }
    if (outcome.state === 'not_ready') notReady = true;
    reports.push(reportOf(entry, outcome));
    reportIds.push(entry.id);
  }
  if (gw?.managed) {
    const policiesBefore = memory.unreportedPolicies.get(key);
    for (const r of gw.reports) {
      const id = `gateway/${r.port.port}`;
      // A policy an earlier pass wrote and did not report: this pass sees it written (held for GKE,
      // or applied already) and reports it as that pass would have, once; then back soon for GKE's part.
      const earlier = policiesBefore?.get(id);
      const report = earlier && (r.outcome.state === 'hold' || r.outcome.state === 'in_sync') ? { ...r, outcome: earlier } : r;
      if (report !== r) notReady = true;
      reports.push(report);
      reportIds.push(id);
    }
    if (gw.notReady) notReady = true;
  }
  if (gw?.error) errors.push(gw.error);
  // A re-read still pending for this Service (e.g. a re-verify scheduled by an earlier pass) brings it back then.
  lookAgainAt = Math.min(lookAgainAt, memory.rereads.soonest(key));
  if (failedBefore?.size === 0) memory.failed.delete(key);
  if (inFlight) {
    keepPolicyReports(memory, key, reports, reportIds);
    return nextStep(errors, notReady, lookAgainAt, nowMs, deps);
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
    if (failed) {
      // The patches are applied; their report is not. Keep them, so the retry reports `Patched`
      // and emits HealthCheckPatched once, without patching again.
      const keep = new Map<string, UnreportedPatch>();
      const memo = reports.flatMap((r, i) => {
        const id = reportIds[i];
        return r.outcome.state === 'patched' && id !== undefined ? [[id, applied.get(id) ?? unreported?.get(id)] as const] : [];
      });
      for (const [p, u] of memo) if (u) keep.set(p, u);
      if (keep.size > 0) boundedSet(memory.unreported, key, keep);
      keepPolicyReports(memory, key, reports, reportIds);
      return failed;
    }
  }
  // Only what this pass reported: a patch that settled during the pass is reported by the next one.
  if (memory.unreported.get(key) === unreported) memory.unreported.delete(key);
  memory.unreportedPolicies.delete(key);
  // Events are best effort, as in client-go's recorder: a failed Event never fails the reconcile.
  for (const ev of plannedEvents(reports, changed)) {
    await deps.events
      .emit(svc, ev)
      .catch((err: unknown) => log.warn('event not recorded', { reason: ev.reason, error: describeKubeError(err) }));
  }
  if (changed) log.info('condition updated', { reason: condition.reason, status: condition.status, message: condition.message });
  const next = nextStep(errors, notReady, lookAgainAt, nowMs, deps);
  // Settled: done, nothing written, sent or taken from an earlier pass, every port's report its plan.
  // A re-read made at the start of this pass (a re-verify) counts: the record holds what was read after it.
  const settled =
    next.kind === 'done' &&
    !changed &&
    applied.size === 0 &&
    unreported === undefined &&
    failedBefore === undefined &&
    reports.every((r) => SETTLED_STATES.has(r.outcome.state));
  const reads = settled ? rec.reads() : undefined;
  if (reads) memory.settled.set(svc, reads);
  else memory.settled.delete(svc);
  memory.written.delete(key);
  // Settled but for the condition write (and the earlier patches it reported): kept for the write's echo.
  if (
    changed &&
    next.kind === 'done' &&
    applied.size === 0 &&
    failedBefore === undefined &&
    !memory.unreported.has(key) &&
    keptAfterWrite(reports)
  ) {
    const writtenReads = rec.reads();
    if (writtenReads) boundedSet(memory.written, key, { service: svc, condition, reads: writtenReads });
  }
  return next;
}

/** What the work queue does after a pass: the errors first, then the soonest look again (a backend not ready, a re-read due). */
function nextStep(errors: readonly GcpError[], notReady: boolean, lookAgainAt: number, nowMs: number, deps: ReconcileDeps): Outcome {
  // A transient failure (retry with backoff) matters more than a terminal one (GCP's 400).
  const error = errors.find((e) => !isTerminal(e)) ?? errors[0];
  if (error) return { kind: 'error', error };
  if (notReady) lookAgainAt = Math.min(lookAgainAt, nowMs + deps.notReadyRequeueMs);
  if (lookAgainAt < Infinity) {
    return {
      kind: 'requeueAfter',
      ms: Math.max(0, lookAgainAt - nowMs),
      why: notReady ? 'a backend is not ready in GCP yet' : 'a patched or BackendConfig-owned check is re-read then',
    };
  }
  return { kind: 'done' };
}

/**
 * Whether a BackendConfig change seen at `changedAt` is still within ingress-gce's grace at
 * `nowMs`; when it is, when the grace ends and how long ago the change was, in words. Pure.
 */
export function backendConfigGrace(
  changedAt: number | undefined,
  nowMs: number,
  graceMs: number,
): { endsAt: number; agoText: string } | undefined {
  if (changedAt === undefined || nowMs - changedAt >= graceMs) return undefined;
  const ago = Math.max(0, Math.round((nowMs - changedAt) / 1000));
  return {
    endsAt: changedAt + graceMs,
    agoText: `${ago} s ago; ingress-gce applies it on its next sync (hcsync waits up to ${Math.round(graceMs / 1000)} s)`,
  };
}

const describeChange = (c: { field: string; live: string | number; intended: string | number }) =>
  `${c.field} ${JSON.stringify(c.live)} ≠ ${JSON.stringify(c.intended)}`;

/** Whether the live check still has every field a remembered patch set. */
function stillHolds(patch: OwnedFields, live: LiveHealthCheck): boolean {
  return diffFields(patch, live).length === 0;
}

function checkKey(name: string, scope: Scope): string {
  return `${scopeKey(scope)}/${name}`;
}

function scheduleReread(memory: Memory, key: string, live: LiveHealthCheck, dueAt: number, fresh = false): void {
  memory.rereads.set(checkKey(live.name, live.scope), { key, name: live.name, scope: live.scope, dueAt, ...(fresh ? { fresh } : {}) });
}

/** No re-read this pass: most passes, so no Set is made for them. */
const NO_REREADS: ReadonlySet<string> = new Set();

/**
 * Re-reads the checks of this Service whose re-read is due; returns the keys of those done. Lists,
 * not per-check GETs (issue 11: ~3,000 re-verify GETs in the minute after 5,000 checks converged):
 * - a re-read is done by any list that started after it was due: what that list read is in the
 *   inventory, and a list that started after a patch completed shows GCP's truth over the patch
 *   record (gcp/inventory.ts), so a revert by ingress-gce's stale PUT (docs §5.7) is seen;
 * - while more than rereadGetsMax (500) re-reads are pending (e.g. after a burst of patches), a due one
 *   is left to one coalesced list (BackendLookup.relistSince: shared, at most one per re-list
 *   interval), and the Service comes back when that list completes; this pass plans on the inventory as is;
 * - otherwise one GET each, as before: few re-reads cost less than a list's pages (22 at 6,000 checks),
 *   and so does a `fresh` one (an Operation not confirmed in time: the re-patch needs the check now).
 */
async function rereadDue(key: string, nowMs: number, deps: ReconcileDeps, memory: Memory, log: Logger): Promise<Set<string>> {
  const done = new Set<string>();
  const lists = hasBulkRereads(deps.backends) ? deps.backends : undefined;
  for (const [ck, due] of memory.rereads.due(key, nowMs)) {
    if (lists && !due.fresh && lists.listedSince(due.dueAt)) {
      memory.rereads.take(ck, key, nowMs);
      done.add(ck);
      log.debug('re-read health check by a list', { health_check: due.name });
      continue;
    }
    if (lists && !due.fresh && memory.rereads.size > (deps.rereadGetsMax ?? DEFAULT_REREAD_GETS_MAX)) {
      memory.rereads.leaveToList(ck);
      awaitList(key, due.dueAt, lists, deps, memory);
      continue;
    }
    const r = memory.rereads.take(ck, key, nowMs);
    if (!r) continue;
    const read = await deps.backends.reread(r.name, r.scope);
    done.add(ck);
    log.debug('re-read health check', { health_check: r.name, found: read !== undefined });
  }
  return done;
}

/**
 * A due re-read is left to a list while more than this many re-reads are pending; fewer get a GET
 * each. Decision, measured (bench:scale S=5,000, 25 qps, 2026-11-30): with 20, a full re-list every
 * 15 s while converging raised heap max 158 → 185 MiB and steady RSS median 242 → 287 MiB against
 * GETs spread at the write pace (reports no longer lag their patches, so ≤ 10 s × qps re-reads are
 * pending: 250 at 25 qps). Lists are for bigger bursts (a re-verify backlog after a pause or at high qps).
 */
const DEFAULT_REREAD_GETS_MAX = 500;

type BulkRereads = Required<Pick<BackendLookup, 'listedSince' | 'relistSince'>>;

/** Whether the lookup re-verifies in bulk (the GCP inventory does; simple fakes do not: a GET per re-read then). */
function hasBulkRereads(b: BackendLookup): b is BackendLookup & BulkRereads {
  return b.listedSince !== undefined && b.relistSince !== undefined;
}

const LOGGED_LIST_ERRORS = new WeakSet<object>();

/**
 * Brings the Service back once a list that started at or after `since` completed (or failed); one wait per Service.
 * A failed list re-queues every Service that waited for it; their re-reads stay pending (nothing is
 * taken as verified), and their next pass waits for the next list, which the inventory starts after
 * its failure backoff (gcp/inventory.ts relistSince).
 */
function awaitList(key: string, since: number, lists: BulkRereads, deps: ReconcileDeps, memory: Memory): void {
  if (memory.listWaiters.has(key)) return;
  memory.listWaiters.add(key);
  lists
    .relistSince(since)
    .catch((err: unknown) => {
      // Every waiter of one list gets the same error: said once, not once per Service, and about the
      // list (the first waiter's handler runs before any waiter leaves listWaiters: all are counted).
      if (err instanceof Object && !LOGGED_LIST_ERRORS.has(err)) {
        LOGGED_LIST_ERRORS.add(err);
        deps.log.warn('listing GCP to re-verify patched checks failed; retried after the re-list backoff', {
          error: classify(err).message,
          services_waiting: memory.listWaiters.size,
        });
      }
    })
    .finally(() => {
      memory.listWaiters.delete(key);
      notify(deps, memory, [key]);
    });
}

/** Keeps this pass's `patched` Gateway reports (policies written) for the next pass that reports. */
function keepPolicyReports(memory: Memory, key: string, reports: readonly PortReport[], reportIds: readonly string[]): void {
  const keep = new Map(memory.unreportedPolicies.get(key));
  reports.forEach((r, i) => {
    const id = reportIds[i];
    if (id?.startsWith('gateway/') && r.outcome.state === 'patched') keep.set(id, r.outcome);
  });
  if (keep.size > 0) boundedSet(memory.unreportedPolicies, key, keep);
}

function forgetKey(memory: Memory, key: string): void {
  memory.written.delete(key);
  memory.unreported.delete(key);
  memory.unreportedPolicies.delete(key);
  memory.failed.delete(key);
  memory.unappliedSince.delete(key);
  memory.rereads.forget(key);
}

function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, limit = MEMO_LIMIT): void {
  if (!map.has(key) && map.size >= limit) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/**
 * Assesses the Service from the caches. When an Ingress names a backend service the inventory
 * has not seen (GKE may have just created it), or a backend links a check the inventory lacks
 * (GKE may be recreating it after a 404, docs §5.6), this asks for a re-list of GCP — which the
 * inventory grants within its bounds — and assesses again; otherwise the port stays
 * BackendNotReady and the key is requeued.
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
  if (!first.managed) return { ok: true, assessment: first };
  // Most passes miss nothing: no array then (issue 11, a steady resync's allocation).
  const missing = (p: PortAssessment) => p.backend?.healthCheck !== undefined && !p.live;
  const missingChecks = first.ports.some(missing)
    ? first.ports.flatMap((p) => (p.backend?.healthCheck && !p.live ? [p.backend.healthCheck] : []))
    : [];
  if (first.unseenBackends.length === 0 && missingChecks.length === 0) return { ok: true, assessment: first };
  try {
    if (!(await deps.backends.refreshIfDue({ backendServices: first.unseenBackends, healthChecks: missingChecks }))) {
      return { ok: true, assessment: first };
    }
  } catch (err) {
    return { ok: false, error: classify(err) };
  }
  log.debug('re-listed GCP for backends or checks not seen', {
    backend_services: first.unseenBackends,
    health_checks: missingChecks.map((c) => c.name),
  });
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

/** The same words on the pass GCP rejected a patch and on every later one, so the condition stays as it is. */
const rejectedText = (gcpMessage: string) => `${gcpMessage} (not re-sent until the intent or the check changes)`;

/** A port's patch: its outcome (and the error, for the error policy), or `pending` while its Operation runs. */
type PatchResult = { readonly pending: true } | { readonly outcome: PortOutcome; readonly error?: GcpError };

/**
 * Sends one planned patch. The check is reserved first (synchronously: no second PATCH for it
 * while this one is in flight), a slot of the in-flight bound is taken — or, when none is free,
 * waited for off the worker — and the patch goes through the write limiter and the fence (asked
 * when the write leaves). The pass waits neither for a slot nor for the Operation: it returns `pending`,
 * and when the Operation settles the answer is kept for the Service's next pass (`unreported` for
 * DONE, `failed` for an error) and the Service is re-queued. An answer already there without I/O
 * (a patcher that answers at once) is turned into the port's outcome in this pass.
 */
async function applyPatch(
  key: string,
  entryId: string,
  live: LiveHealthCheck,
  plan: Extract<PortPlan, { state: 'patch' }>,
  reverify: boolean,
  deps: ReconcileDeps,
  memory: Memory,
  log: Logger,
): Promise<PatchResult> {
  const memoKey = `${key}#${entryId}`;
  const signature = JSON.stringify([live.id, plan.patch]);
  const before = memory.rejected.get(memoKey);
  if (before?.signature === signature) {
    // GCP's own words stay in the condition; the patch is not re-sent until the intent or the check changes.
    return {
      outcome: {
        state: 'patch_failed',
        source: plan.source,
        changes: plan.changes,
        error: rejectedText(before.message),
      },
    };
  }
  const ck = checkKey(live.name, live.scope);
  const reservation = memory.patches.reserve(ck, key, entryId);
  if (!reservation) return { pending: true };
  const state: { answer?: { ok: true } | { ok: false; error: unknown } } = {};
  const requestId = randomUUID();
  /** Hands the patch to the write limiter (paced, fenced when it leaves); never rejects: the answer lands in `state`. */
  const send = (): Promise<void> => {
    let answer: Promise<void>;
    try {
      answer = deps.patcher.patchHealthCheck({ name: live.name, scope: live.scope, type: live.type }, plan.patch, requestId);
    } catch (error) {
      answer = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return answer.then(
      () => void (state.answer = { ok: true }),
      (error: unknown) => void (state.answer = { ok: false, error }),
    );
  };
  let sent: Promise<void>;
  if (memory.patches.tryAcquire(reservation)) {
    sent = send();
    // One turn of the event loop: an answer that needed no I/O is reported in this pass.
    await new Promise((r) => setImmediate(r));
  } else {
    // Every slot is taken: the wait for one is pipelined like the Operation's, so this worker goes on
    // to other Services (their report passes among them) instead of waiting at the write pace. The
    // check stays reserved meanwhile: no other pass sends a second PATCH for it (issue 11).
    sent = memory.patches.acquire(reservation).then(send);
  }
  const settle = (a: NonNullable<typeof state.answer>): { outcome: PortOutcome; error?: GcpError } => {
    if (a.ok) return applied(live, plan, memoKey, deps, memory, log);
    return failedPatch(a.error, live, plan, memoKey, signature, deps, memory, log);
  };
  if (state.answer) {
    // Settled without I/O: this pass reports it; the keys that waited meanwhile look again.
    const waited = memory.patches.release(ck).filter((k) => k !== key);
    const result = settle(state.answer);
    if (waited.length > 0) notify(deps, memory, waited);
    return result;
  }
  void sent.then(() => {
    const keys = memory.patches.release(ck);
    const a = state.answer ?? { ok: false, error: new Error('patch settled without an answer') };
    // Step-down or shutdown abandoned the wait (or dropped the queued write): nothing more is written or re-queued.
    if (!a.ok && (a.error instanceof NotLeaderError || a.error instanceof WriteDroppedError)) {
      log.info('health check patch abandoned', { health_check: live.name, why: a.error.message });
      return;
    }
    if (!a.ok && a.error instanceof OperationTimeoutError) {
      // Not an error GCP made, and GCP may still apply it: the Service's next pass (at once) re-reads
      // the check (GET) and re-patches only if the fields are not there. That re-patch gets a new
      // requestId: reusing the old one would wait on the same, possibly stuck, Operation again
      // (decision in README "Operations"); the fields are the same, so a late first Operation changes nothing.
      deps.metrics.patchesTotal.inc({ result: 'error' });
      log.warn('health check patch not confirmed; re-reading the check', { health_check: live.name, error: a.error.message });
      scheduleReread(memory, key, live, nowOf(deps), true);
      notify(deps, memory, keys, true);
      return;
    }
    const result = settle(a);
    if (result.outcome.state === 'patched') {
      boundedSet(
        memory.unreported,
        key,
        new Map(memory.unreported.get(key)).set(entryId, { healthCheck: live.name, patch: plan.patch, outcome: result.outcome }),
      );
      if (reverify) scheduleReread(memory, key, live, nowOf(deps) + (deps.reverifyAfterMs ?? DEFAULT_REVERIFY_AFTER_MS));
    } else {
      // In place: a pass running now consumes (deletes) entries of the same map.
      let failed = memory.failed.get(key);
      if (!failed) boundedSet(memory.failed, key, (failed = new Map()));
      failed.set(entryId, { healthCheck: live.name, ...result });
    }
    // A failed patch's pass (it reports the failure, and the error policy schedules the re-send)
    // must not wait behind a resync's worth of Services: at S=5,000 it waited 100 s (issue 11).
    notify(deps, memory, keys, result.outcome.state !== 'patched');
  });
  return { pending: true };
}

const nowOf = (deps: ReconcileDeps) => (deps.now ?? (() => new Date()))().getTime();

/** Re-queues Services whose patch settled (or collects them while draining for shutdown); urgent when it did not apply. */
function notify(deps: ReconcileDeps, memory: Memory, keys: readonly string[], urgent = false): void {
  if (memory.drain.active) for (const k of keys) memory.drain.keys.add(k);
  else deps.onPatchSettled?.(keys, urgent);
}

/** A patch whose Operation is DONE without error: the inventory keeps its fields (a list read before cannot undo them). */
function applied(
  live: LiveHealthCheck,
  plan: Extract<PortPlan, { state: 'patch' }>,
  memoKey: string,
  deps: ReconcileDeps,
  memory: Memory,
  log: Logger,
): { outcome: PortOutcome & { state: 'patched' } } {
  deps.backends.recordPatch(live.name, live.scope, plan.patch);
  deps.metrics.patchesTotal.inc({ result: 'success' });
  memory.rejected.delete(memoKey);
  log.info('health check patched', { health_check: live.name, changes: plan.changes, source: plan.source });
  return { outcome: { state: 'patched', source: plan.source, changes: plan.changes } };
}

/** A patch GCP refused, or whose Operation ended in an error or did not finish in time: the port's outcome and the error. */
function failedPatch(
  err: unknown,
  live: LiveHealthCheck,
  plan: Extract<PortPlan, { state: 'patch' }>,
  memoKey: string,
  signature: string,
  deps: ReconcileDeps,
  memory: Memory,
  log: Logger,
): { outcome: PortOutcome; error?: GcpError } {
  const e = classify(err);
  deps.metrics.patchesTotal.inc({ result: 'error' });
  log.warn('health check patch failed', { health_check: live.name, error_class: e.errorClass, error: e.message });
  if (e.errorClass === 'not_found') {
    // GKE deletes and recreates the check under the same name (docs §5.6): the inventory re-lists
    // for it at the next requeue, skipping its interval once.
    deps.backends.forgetHealthCheck(live.name, live.scope);
    return { outcome: { state: 'not_ready', why: `health check ${live.name} is gone (GKE may be recreating it)` } };
  }
  if (isTerminal(e)) {
    // A 400 will not pass on retry: remember it (bounded) with GCP's message until the intent or the check changes.
    boundedSet(memory.rejected, memoKey, { signature, message: e.message }, REJECTED_LIMIT);
    return { outcome: { state: 'patch_failed', source: plan.source, changes: plan.changes, error: rejectedText(e.message) }, error: e };
  }
  return { outcome: { state: 'patch_failed', source: plan.source, changes: plan.changes, error: e.message }, error: e };
}
