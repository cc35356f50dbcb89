// For one Service behind GKE Gateways: the intent per referenced port, the one HealthCheckPolicy
// that serves them all, what to do about hcsync's own policy, and each port's live `gkegw1-…`
// check verified against the policy in force (contract "Gateway API"; docs/gke-gateway-healthchecks.md).
// Pure and synchronous, like assess.ts: it reads the cluster view and the GCP inventory as they are.
//
// GKE's Gateway controller never reads probes (docs §1): the only supported way to set the check
// is a HealthCheckPolicy, one per Service with no port in its targetRef (§2). So:
// - the policy is built from rules 2–6 of the intent (annotations, readinessProbe, livenessProbe),
//   never from a BackendConfig (GKE's Gateway does not read BackendConfigs), with only the fields
//   the intent gives, so GKE's defaults apply to the rest;
// - ports whose intents differ cannot share one policy: Conflict, nothing written;
// - a policy hcsync did not label is the user's: it owns the check, hcsync never writes it, deletes
//   its own policy for the Service, and reports drift against it (and Conflict with an annotation);
// - hcsync never patches a `gkegw1-…` check: the live check is only verified.
import { scopeKey, type BackendServiceRef, type LiveHealthCheck, type OwnedField, type OwnedFields } from '../model/health-check.js';
import { isHcsyncPolicy, ownPolicyName, type DesiredPolicy, type PolicyDefault, type SlimHealthCheckPolicy } from '../model/gateway.js';
import { gatewayNameServes } from '../model/gke-gateway-names.js';
import { portLabel, type SlimService, type SlimServicePort } from '../model/kube.js';
import type { BackendReader, ClusterView } from '../model/ports.js';
import { ANNOTATION, parseMode, type ActiveMode, type AppProtocol } from '../parse/annotations.js';
import { ok } from '../parse/result.js';
import { intentForServicePort, serviceIntentContext, type PortIntent } from '../intent/intent.js';
import { effectiveMode } from './mode.js';
import { diffFields, type FieldChange, type PortPlan } from './port-plan.js';
import { gatewayScope, type GatewayPortScope } from './gateway-scope.js';

/** One Service port behind GKE Gateways: its live check (when exactly one `gkegw1-…` backend is this port's), intent and plan. */
interface GatewayPortAssessment {
  readonly port: SlimServicePort;
  readonly scope: GatewayPortScope;
  readonly backend?: BackendServiceRef;
  readonly live?: LiveHealthCheck;
  readonly intent: PortIntent;
  /** `patch` here means: hcsync applies its policy (enforce), never a Compute write. */
  readonly plan: PortPlan;
  /** The policy in force or to be written, as users read it: `HealthCheckPolicy ns/name` (+ its status when not good). */
  readonly via: string;
  /** hcsync's policy says what it should; GKE's Gateway controller has not applied it to the live check yet. */
  readonly awaitingGke?: true;
  /** hcsync's policy is written and GKE has not applied it within POLICY_APPLY_GRACE_MS (reported as drift; no GET per pass). */
  readonly unapplied?: true;
}

/** What to do about hcsync's own policy for this Service. */
export type PolicyAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'apply'; readonly policy: DesiredPolicy }
  | { readonly kind: 'delete'; readonly namespace: string; readonly name: string; readonly uid: string; readonly why: string };

export type GatewayAssessment =
  | { readonly managed: false; readonly why: string; readonly action: PolicyAction }
  | {
      readonly managed: true;
      readonly ports: readonly GatewayPortAssessment[];
      readonly action: PolicyAction;
      /** `namespace/service/port` of the ports no `gkegw1-…` backend service was found for (the inventory may re-list). */
      readonly unseen: readonly string[];
      /** backendRefs to the Service that did not count, and why. */
      readonly ignored: readonly string[];
    };

export interface GatewayAssessOptions {
  readonly mode: ActiveMode;
  readonly inferFromLiveness: boolean;
  readonly allowServiceEnforce?: boolean;
  /**
   * Since when (ms) this replica has seen hcsync's written policy not applied to the live check,
   * and the time now. A one-shot view (plan, diagnose) gives neither and reports the wait as held.
   */
  readonly unappliedSince?: number;
  readonly now?: number;
}

/**
 * How long GKE's Gateway controller gets to apply hcsync's policy before the difference is reported
 * as Drifted rather than held (the same grace as a BackendConfig change on the Ingress path): a
 * policy GKE never applies (not attached, refused) must not read as a rollout for ever.
 */
export const POLICY_APPLY_GRACE_MS = 120_000;

/** GKE's policy type for a Service port's appProtocol (contract: HTTPS → HTTPS, `kubernetes.io/h2c` or HTTP2 → HTTP2, else HTTP). */
function policyTypeOf(port: SlimServicePort): AppProtocol {
  const p = port.appProtocol;
  if (p === 'HTTPS') return 'HTTPS';
  if (p === 'kubernetes.io/h2c' || p === 'HTTP2') return 'HTTP2';
  return 'HTTP';
}

/** The fields of a policy's `default` that hcsync compares with a live check (GCE names). */
function policyFields(d: PolicyDefault | undefined): OwnedFields {
  const f: { -readonly [K in OwnedField]?: OwnedFields[K] } = {};
  if (d?.config?.requestPath !== undefined) f.requestPath = d.config.requestPath;
  if (d?.config?.host !== undefined) f.host = d.config.host;
  if (d?.checkIntervalSec !== undefined) f.checkIntervalSec = d.checkIntervalSec;
  if (d?.timeoutSec !== undefined) f.timeoutSec = d.timeoutSec;
  return f;
}

/** The policy spec for one intent: only the fields the intent gives (contract), type from the port's protocol. */
function desiredDefault(desired: OwnedFields, type: string): DesiredPolicy['default'] {
  return {
    ...(desired.checkIntervalSec !== undefined ? { checkIntervalSec: desired.checkIntervalSec } : {}),
    ...(desired.timeoutSec !== undefined ? { timeoutSec: desired.timeoutSec } : {}),
    config: {
      type,
      ...(desired.requestPath !== undefined ? { requestPath: desired.requestPath } : {}),
      ...(desired.host !== undefined ? { host: desired.host } : {}),
    },
  };
}

/** Whether hcsync's policy already says what it would apply: every field hcsync sets is equal (fields others added are theirs). */
function sameDefault(have: PolicyDefault | undefined, want: DesiredPolicy['default']): boolean {
  const a = policyFields(have);
  const b = policyFields(want);
  return (
    (have?.config?.type ?? 'HTTP') === want.config.type &&
    a.requestPath === b.requestPath &&
    a.host === b.host &&
    a.checkIntervalSec === b.checkIntervalSec &&
    a.timeoutSec === b.timeoutSec
  );
}

/** A policy's `status.conditions` that are not True, in words (e.g. "Attached=False (reason: message)"); '' when all are good. */
function policyStatusText(p: SlimHealthCheckPolicy): string {
  return p.conditions
    .filter((c) => c.status !== 'True')
    .map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`)
    .join(', ');
}

const policyLabel = (namespace: string, name: string) => `HealthCheckPolicy ${namespace}/${name}`;

function viaText(p: SlimHealthCheckPolicy | undefined, namespace: string, name: string): string {
  const status = p ? policyStatusText(p) : '';
  return `${policyLabel(namespace, name)}${status ? ` [policy status: ${status}]` : ''}`;
}

/** Whether the policy targets this Service (core group, kind Service, same namespace: targetRef has none). */
function targets(p: SlimHealthCheckPolicy, service: string): boolean {
  return p.targetRef.group === '' && p.targetRef.kind === 'Service' && p.targetRef.name === service;
}

/**
 * The `gkegw1-…` backend services that can be this Service port's: by GKE's description when it
 * has one, else by name (model/gke-gateway-names.ts, conservative on truncation).
 */
function gatewayBackendsOf(all: readonly BackendServiceRef[], svc: SlimService, port: SlimServicePort): BackendServiceRef[] {
  const { namespace, name } = svc.metadata;
  return all.filter((bs) =>
    bs.service
      ? bs.service.namespace === namespace &&
        bs.service.name === name &&
        (bs.service.port === String(port.port) || bs.service.port === port.name)
      : gatewayNameServes(bs.name, namespace, name, port.port),
  );
}

type Live =
  | { kind: 'found'; backend: BackendServiceRef; live: LiveHealthCheck; label: string }
  | { kind: 'missing'; backend?: BackendServiceRef; why: string; unseen: boolean };

function liveOf(svc: SlimService, port: SlimServicePort, backends: BackendReader): Live {
  const candidates = gatewayBackendsOf(backends.gatewayBackendServices?.() ?? [], svc, port);
  const first = candidates[0];
  if (!first) {
    return {
      kind: 'missing',
      why: `GKE's Gateway controller has not created a gkegw1-… backend service for port ${portLabel(port)} yet`,
      unseen: true,
    };
  }
  if (candidates.length > 1) {
    return {
      kind: 'missing',
      why: `${candidates.length} gkegw1-… backend services could be port ${portLabel(port)}'s (${candidates.map((c) => c.name).join(', ')}); hcsync cannot tell which, so it does not verify (it writes only the policy, never these checks)`,
      unseen: false,
    };
  }
  const hc = first.healthCheck;
  const live = hc ? backends.healthCheck(hc.name, hc.scope) : undefined;
  if (!hc || !live) {
    return {
      kind: 'missing',
      backend: first,
      why: `the health check of backend service ${first.name} is not known to hcsync yet`,
      unseen: false,
    };
  }
  return { kind: 'found', backend: first, live, label: live.scope.kind === 'global' ? live.name : `${scopeKey(live.scope)}/${live.name}` };
}

/** A live check against the fields a policy sets, plus its type: the differences, and the type when it differs. */
function verify(live: LiveHealthCheck, fields: OwnedFields, type: string): { changes: FieldChange[]; typeText: string } {
  const changes = diffFields(fields, live);
  return { changes, typeText: live.type === type ? '' : `type ${live.type} ≠ ${type}` };
}

const changesText = (changes: readonly FieldChange[], typeText: string) =>
  [...changes.map((c) => `${c.field} ${JSON.stringify(c.live)} ≠ ${JSON.stringify(c.intended)}`), ...(typeText ? [typeText] : [])].join(
    ', ',
  );

/** The intent signature ports must share to be served by one policy. */
function signatureOf(intent: PortIntent, type: string): string {
  if (intent.kind !== 'desired') return 'no intent';
  return JSON.stringify(desiredDefault(intent.desired, type));
}

function describeIntent(intent: PortIntent, type: string): string {
  if (intent.kind !== 'desired') return 'no intent (GKE would probe /)';
  const d = desiredDefault(intent.desired, type);
  return `${JSON.stringify(d)} from ${intent.source}`;
}

/**
 * Assesses one Service for GKE Gateways: not managed (mode ignore, or no GKE Gateway route backs
 * it) with the reason and what to do about an own policy left over; or per referenced port its
 * live check, intent and plan, and the action on hcsync's policy. Observe mode plans only.
 */
export function assessGateway(svc: SlimService, view: ClusterView, backends: BackendReader, opts: GatewayAssessOptions): GatewayAssessment {
  const { namespace, name } = svc.metadata;
  const policies = (view.healthCheckPolicies?.(namespace) ?? []).filter((p) => targets(p, name) || p.metadata.name === ownPolicyName(name));
  const own = policies.find((p) => p.metadata.name === ownPolicyName(name) && isHcsyncPolicy(p));
  const deleteOwn = (why: string): PolicyAction =>
    own ? { kind: 'delete', namespace, name: own.metadata.name, uid: own.metadata.uid, why } : { kind: 'none' };

  const modeAnnotation = parseMode(svc.metadata.annotations);
  const effective = effectiveMode({
    clusterMode: opts.mode,
    annotation: modeAnnotation,
    allowServiceEnforce: opts.allowServiceEnforce ?? true,
  });
  // ignore: hcsync leaves the Service alone, its own policy included.
  if (effective.mode === 'ignore') return { managed: false, why: 'hcsync.io/mode is ignore', action: { kind: 'none' } };
  const scope = gatewayScope(svc, view);
  if (scope.ports.length === 0) {
    const why = 'no route of a GKE Gateway has a backend on this Service';
    return {
      managed: false,
      why,
      action: effective.mode === 'enforce' ? deleteOwn(`${why}, so hcsync's policy is no longer needed`) : { kind: 'none' },
    };
  }
  const mode = effective.mode;
  const svcName = `Service ${namespace}/${name}`;

  // Rules 2–6 only: GKE's Gateway reads neither BackendConfigs nor the transparent health check
  // annotation; the probe's scheme must match the port's appProtocol (spec field, as GKE reads it).
  const protocols = new Map<string, AppProtocol>();
  for (const p of svc.spec.ports) if (p.name !== undefined) protocols.set(p.name, policyTypeOf(p));
  const ctx = {
    ...serviceIntentContext({
      service: svc,
      pods: view.podsFor(svc),
      backendConfig: () => undefined,
      inferFromLiveness: opts.inferFromLiveness,
    }),
    backendConfigRef: ok(undefined),
    transparentHealthCheck: ok(false),
    appProtocols: ok(protocols),
  };
  const rows = scope.ports.map((s) => {
    const intent: PortIntent = modeAnnotation.ok
      ? intentForServicePort(ctx, s.port, 'neg')
      : { kind: 'invalid', error: `${svcName}: ${modeAnnotation.error}` };
    return { scope: s, port: s.port, intent, type: policyTypeOf(s.port), live: liveOf(svc, s.port, backends) };
  });
  const unseen = rows.flatMap((r) => (r.live.kind === 'missing' && r.live.unseen ? [`${namespace}/${name}/${r.port.port}`] : []));
  const entry = (r: (typeof rows)[number], plan: PortPlan, via: string, awaitingGke = false): GatewayPortAssessment => ({
    port: r.port,
    scope: r.scope,
    ...(r.live.kind === 'found' || r.live.backend ? { backend: r.live.backend } : {}),
    ...(r.live.kind === 'found' ? { live: r.live.live } : {}),
    intent: r.intent,
    plan,
    via,
    ...(awaitingGke ? { awaitingGke: true as const } : {}),
  });
  const result = (ports: GatewayPortAssessment[], action: PolicyAction): GatewayAssessment => ({
    managed: true,
    ports,
    action,
    unseen,
    ignored: scope.ignored,
  });

  // A user's policy owns the check (oldest first: GKE uses the oldest of several, docs §2).
  const users = policies
    .filter((p) => !isHcsyncPolicy(p) && targets(p, name))
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  const user = users[0];
  if (user) {
    const label = policyLabel(namespace, user.metadata.name);
    const others = users.length > 1 ? `; ${users.length} policies target the Service and GKE uses the oldest, ${user.metadata.name}` : '';
    const via = `${viaText(user, namespace, user.metadata.name)} (not hcsync's)`;
    const fields = policyFields(user.default);
    const type = user.default?.config?.type ?? 'HTTP';
    const ports = rows.map((r): GatewayPortAssessment => {
      if (r.intent.kind === 'invalid') return entry(r, { state: 'invalid', why: r.intent.error }, via);
      const mine = r.intent.kind === 'desired' && r.intent.source.startsWith('hcsync.io/') ? r.intent : undefined;
      const theirs = fields.requestPath ?? '/';
      if (mine?.desired.requestPath !== undefined && mine.desired.requestPath !== theirs) {
        const changes = r.live.kind === 'found' ? diffFields(fields, r.live.live) : [];
        const why = `${mine.source} says requestPath ${JSON.stringify(mine.desired.requestPath)} but ${label}, which hcsync did not create, sets ${JSON.stringify(theirs)}; the policy owns the check and hcsync never changes it (change it there, or remove the annotation)${others}`;
        return entry(r, { state: 'conflict', why, changes }, via);
      }
      if (r.live.kind === 'missing') return entry(r, { state: 'not_ready', why: r.live.why }, via);
      const v = verify(r.live.live, fields, type);
      if (v.changes.length === 0 && !v.typeText) return entry(r, { state: 'in_sync', source: 'HealthCheckPolicy' }, via);
      const status = policyStatusText(user);
      const why = `${label} owns the check; GKE's Gateway controller has not applied it to ${r.live.label} (${changesText(v.changes, v.typeText)})${status ? `; policy status: ${status}` : ''}${others}`;
      return entry(r, { state: 'drifted', source: 'HealthCheckPolicy', changes: v.changes, why }, via);
    });
    return result(
      ports,
      mode === 'enforce' ? deleteOwn(`${label}, which hcsync did not create, owns the Service's check`) : { kind: 'none' },
    );
  }

  const ownName = ownPolicyName(name);
  const ownVia = viaText(own, namespace, ownName);
  // Any port that cannot give intent stops the one policy: nothing is written until it is resolved.
  const blocked = rows.filter((r) => r.intent.kind === 'invalid' || r.intent.kind === 'hold');
  if (blocked.length > 0) {
    const ports = rows.map((r): GatewayPortAssessment => {
      if (r.intent.kind === 'invalid') return entry(r, { state: 'invalid', why: r.intent.error }, ownVia);
      if (r.intent.kind === 'hold') return entry(r, { state: 'hold', why: r.intent.why }, ownVia);
      const list = blocked.map((b) => portLabel(b.port)).join(', ');
      return entry(
        r,
        {
          state: 'hold',
          why: `one HealthCheckPolicy covers every port of the Service, and port(s) ${list} cannot give intent yet; hcsync writes nothing until they can`,
        },
        ownVia,
      );
    });
    return result(ports, { kind: 'none' });
  }
  const desiredRows = rows.filter((r) => r.intent.kind === 'desired');
  if (desiredRows.length === 0) {
    const ports = rows.map((r) =>
      entry(
        r,
        { state: 'no_intent', why: `${r.intent.kind === 'none' ? r.intent.why : 'no intent'}; without a HealthCheckPolicy GKE probes /` },
        ownVia,
      ),
    );
    return result(ports, mode === 'enforce' ? deleteOwn('no port of the Service gives intent any more') : { kind: 'none' });
  }
  const signatures = new Set(rows.map((r) => signatureOf(r.intent, r.type)));
  if (signatures.size > 1) {
    const list = rows.map((r) => `port ${portLabel(r.port)}: ${describeIntent(r.intent, r.type)}`).join('; ');
    const why = `the ports behind GKE Gateways need different health checks (${list}), but one HealthCheckPolicy covers every port of a Service; hcsync writes nothing (give the ports the same path, e.g. with ${ANNOTATION.healthPath}, or split the Service)`;
    return result(
      rows.map((r) => entry(r, { state: 'conflict', why, changes: [] }, ownVia)),
      { kind: 'none' },
    );
  }
  const first = desiredRows[0];
  if (first?.intent.kind !== 'desired') throw new Error('unreachable');
  const intent = first.intent;
  const want = desiredDefault(intent.desired, first.type);
  const policy: DesiredPolicy = { namespace, name: ownName, service: { name, uid: svc.metadata.uid }, default: want };
  const written = own !== undefined && sameDefault(own.default, want);
  const fields = policyFields(want);
  const status = own ? policyStatusText(own) : '';
  const ports = rows.map((r): GatewayPortAssessment => {
    const source = intent.source;
    if (!written) {
      const changes = r.live.kind === 'found' ? diffFields(fields, r.live.live) : [];
      if (mode === 'observe') {
        const would = `observe mode: hcsync would ${own ? 'update' : 'write'} ${policyLabel(namespace, ownName)} with ${JSON.stringify(want)}`;
        // Drift is claimed only against a live check hcsync can name.
        if (r.live.kind === 'missing') return entry(r, { state: 'not_ready', why: `${r.live.why}; ${would}` }, ownVia);
        if (changes.length === 0) return entry(r, { state: 'in_sync', source }, ownVia);
        return entry(r, { state: 'drifted', source, changes, why: would }, ownVia);
      }
      return entry(r, { state: 'patch', source, changes, patch: fields }, ownVia);
    }
    if (r.live.kind === 'missing') return entry(r, { state: 'not_ready', why: r.live.why }, ownVia);
    const v = verify(r.live.live, fields, first.type);
    if (v.changes.length === 0 && !v.typeText) return entry(r, { state: 'in_sync', source }, ownVia);
    // Written, not yet applied by GKE: held like an Ingress rollout (the next sync of GKE's controller
    // applies it), for POLICY_APPLY_GRACE_MS; after that it is drift, reported and alerted on.
    const waitedMs = opts.unappliedSince !== undefined && opts.now !== undefined ? opts.now - opts.unappliedSince : undefined;
    const diff = `${changesText(v.changes, v.typeText)})${status ? `; policy status: ${status}` : ''}`;
    if (waitedMs !== undefined && waitedMs >= POLICY_APPLY_GRACE_MS) {
      const why = `${policyLabel(namespace, ownName)} is written, but GKE's Gateway controller has not applied it to ${r.live.label} for ${Math.round(waitedMs / 1000)} s (${diff}`;
      return { ...entry(r, { state: 'drifted', source, changes: v.changes, why }, ownVia), unapplied: true as const };
    }
    const why = `${policyLabel(namespace, ownName)} is written; GKE's Gateway controller has not applied it to ${r.live.label} yet (${diff}`;
    return entry(r, { state: 'hold', why }, ownVia, true);
  });
  return result(ports, !written && mode === 'enforce' ? { kind: 'apply', policy } : { kind: 'none' });
}
