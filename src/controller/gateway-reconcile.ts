// The Gateway half of one Service's reconcile (contract "Gateway API"): assess (plan/gateway.ts),
// apply or delete hcsync's own HealthCheckPolicy, and turn each referenced port into a report for
// the one condition reconcile.ts writes for Ingress and Gateway together. hcsync makes no Compute
// write for Gateway backends: the policy is the only thing it writes; GKE's Gateway controller
// applies it to the `gkegw1-…` check, which hcsync only verifies.
import { scopeKey } from '../model/health-check.js';
import { isHcsyncPolicy, ownPolicyName } from '../model/gateway.js';
import type { BackendLookup, ClusterView, PolicyWriter } from '../model/ports.js';
import { keyOf, type SlimService } from '../model/kube.js';
import type { ActiveMode } from '../parse/annotations.js';
import { assessGateway, type GatewayAssessment, type GatewayAssessOptions, type PolicyAction } from '../plan/gateway.js';
import type { PortOutcome, PortReport } from '../plan/outcome.js';
import { GcpError, classify } from '../gcp/errors.js';
import { describeKubeError } from '../kube/errors.js';
import { PolicyWriteRefused } from '../kube/policy-writer.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';

export interface GatewayReconcileDeps {
  readonly view: ClusterView;
  readonly backends: BackendLookup;
  readonly policies: PolicyWriter;
  readonly metrics: Metrics;
  readonly mode: ActiveMode;
  readonly inferFromLiveness: boolean;
  readonly allowServiceEnforce?: boolean;
  /**
   * Since when each Service's written policy has been seen not applied by GKE (key → ms), so the
   * hold ends after POLICY_APPLY_GRACE_MS (plan/gateway.ts). Owned by reconcile's bounded memory.
   */
  readonly unappliedSince?: Map<string, number>;
  readonly now?: () => Date;
}

/** What the Gateway half found for one Service. */
export type GatewayPass =
  | { readonly managed: false; readonly why: string; readonly error?: GcpError }
  | { readonly managed: true; readonly reports: readonly PortReport[]; readonly notReady: boolean; readonly error?: GcpError };

/**
 * A policy write the API server refused for good (409 conflict without force, 422 invalid) is
 * terminal like GCP's 400: reported as PatchFailed, not retried until something changes.
 */
function asOutcomeError(err: unknown): GcpError {
  if (err instanceof PolicyWriteRefused) return new GcpError('invalid', undefined, err.message);
  // Sorted like any other API error (403 slow backoff, 5xx retry…), worded without the whole response body.
  const c = classify(err);
  return new GcpError(c.errorClass, c.httpStatus, describeKubeError(err));
}

async function act(action: PolicyAction, deps: GatewayReconcileDeps, log: Logger): Promise<GcpError | undefined> {
  try {
    if (action.kind === 'apply') {
      await deps.policies.apply(action.policy);
      deps.metrics.patchesTotal.inc({ result: 'success' });
      log.info('health check policy applied', { policy: action.policy.name, default: action.policy.default });
    } else if (action.kind === 'delete') {
      await deps.policies.delete(action.namespace, action.name, action.uid);
      log.info('own health check policy deleted', { policy: action.name, why: action.why });
    }
    return undefined;
  } catch (err) {
    const error = asOutcomeError(err);
    if (action.kind === 'apply') deps.metrics.patchesTotal.inc({ result: 'error' });
    log.warn(`health check policy ${action.kind} failed`, { error: error.message });
    return error;
  }
}

/** Assesses, and re-lists GCP once (within the inventory's bounds) when a port's gkegw1 backend was not seen. */
async function assess(svc: SlimService, deps: GatewayReconcileDeps): Promise<GatewayAssessment> {
  const key = keyOf(svc.metadata);
  const now = (deps.now?.() ?? new Date()).getTime();
  const opts: GatewayAssessOptions = {
    mode: deps.mode,
    inferFromLiveness: deps.inferFromLiveness,
    allowServiceEnforce: deps.allowServiceEnforce ?? true,
    ...(deps.unappliedSince ? { unappliedSince: deps.unappliedSince.get(key) ?? now, now } : {}),
  };
  let first = assessGateway(svc, deps.view, deps.backends, opts);
  if (!first.managed) return remember(first);
  // Checks GKE has not brought in line with hcsync's policy yet: one GET each (this pass comes
  // back every notReadyRequeueMs while they wait), so InSync follows soon after GKE applies it.
  const waiting = first.ports.flatMap((p) => (p.awaitingGke && p.live ? [p.live] : []));
  if (waiting.length > 0) {
    try {
      for (const c of waiting) await deps.backends.reread(c.name, c.scope);
      first = assessGateway(svc, deps.view, deps.backends, opts);
      if (!first.managed) return remember(first);
    } catch {
      // Still waiting; the inventory's next list shows it.
    }
  }
  if (!first.managed || first.unseen.length === 0) return remember(first);
  try {
    if (!(await deps.backends.refreshIfDue({ backendServices: [], healthChecks: [], gatewayBackends: first.unseen })))
      return remember(first);
  } catch {
    return remember(first); // the ports stay BackendNotReady; the inventory backs off on its own
  }
  return remember(assessGateway(svc, deps.view, deps.backends, opts));

  /** Starts (or keeps) the clock while hcsync's written policy waits for GKE; stops it otherwise. */
  function remember(a: GatewayAssessment): GatewayAssessment {
    const waiting = a.managed && a.ports.some((p) => p.awaitingGke === true || p.unapplied === true);
    if (!deps.unappliedSince) return a;
    if (!waiting) deps.unappliedSince.delete(key);
    else if (!deps.unappliedSince.has(key)) {
      if (deps.unappliedSince.size >= UNAPPLIED_LIMIT) deps.unappliedSince.clear();
      deps.unappliedSince.set(key, now);
    }
    return a;
  }
}

/** The unapplied-since clocks are bounded like reconcile's other memos. */
const UNAPPLIED_LIMIT = 10_000;

/**
 * The Gateway half of a Service's reconcile: applies or deletes hcsync's own policy as planned
 * (never in observe mode), and reports each referenced port — `patched` once the API server
 * accepted the policy, `patch_failed` with its words when it refused.
 */
export async function reconcileGateway(svc: SlimService, deps: GatewayReconcileDeps, log: Logger): Promise<GatewayPass> {
  const a = await assess(svc, deps);
  const error = await act(a.action, deps, log);
  if (!a.managed) return { managed: false, why: a.why, ...(error ? { error } : {}) };
  const applied = a.action.kind === 'apply' && !error;
  let notReady = false;
  const reports = a.ports.map((p): PortReport => {
    let outcome: PortOutcome;
    if (p.plan.state === 'patch') {
      outcome = applied
        ? { state: 'patched', source: p.plan.source, changes: p.plan.changes }
        : { state: 'patch_failed', source: p.plan.source, changes: p.plan.changes, error: error?.message ?? 'not applied' };
    } else {
      outcome = p.plan;
    }
    // Not there yet, just written, or written and not applied by GKE: look again soon.
    if (outcome.state === 'not_ready' || outcome.state === 'patched' || p.awaitingGke) notReady = true;
    const check = p.live ?? p.backend;
    const warnings = p.intent.kind === 'desired' || p.intent.kind === 'none' ? p.intent.warnings : [];
    return {
      port: p.port,
      ...(check ? { healthCheck: check.scope.kind === 'global' ? check.name : `${scopeKey(check.scope)}/${check.name}` } : {}),
      outcome,
      warnings,
      via: p.via,
    };
  });
  return { managed: true, reports, notReady, ...(error ? { error } : {}) };
}

/**
 * The Service is gone: its own policy (labelled, `hcsync-<service>`) is deleted now rather than
 * left to the garbage collector alone (a cluster without one, or an ownerReference the API server
 * did not honour, would keep it). The uid precondition keeps a policy recreated since safe.
 */
export async function deleteOrphanPolicy(
  namespace: string,
  service: string,
  deps: Pick<GatewayReconcileDeps, 'view' | 'policies' | 'mode'>,
  log: Logger,
): Promise<GcpError | undefined> {
  if (deps.mode !== 'enforce') return undefined;
  const own = deps.view.healthCheckPolicies?.(namespace).find((p) => p.metadata.name === ownPolicyName(service) && isHcsyncPolicy(p));
  if (!own) return undefined;
  try {
    await deps.policies.delete(namespace, own.metadata.name, own.metadata.uid);
    log.info('own health check policy deleted', { policy: own.metadata.name, why: 'the Service is gone' });
    return undefined;
  } catch (err) {
    return asOutcomeError(err);
  }
}
