// The intended health check for one Service port, by the contract's precedence:
// BackendConfig (per field, report only) → hcsync.io/health-paths → hcsync.io/health-path →
// readinessProbe → livenessProbe → nothing. Pure: plain data in, plain data out.
import type { BackendKind, OwnedFields } from '../model/health-check.js';
import {
  portLabel,
  type BackendConfigHealthCheck,
  type SlimBackendConfig,
  type SlimPod,
  type SlimService,
  type SlimServicePort,
} from '../model/kube.js';
import {
  ANNOTATION,
  parseAppProtocols,
  parseBackendConfigRef,
  parseHealthPaths,
  parseTransparentHealthCheck,
  type AppProtocol,
  type BackendConfigRef,
} from '../parse/annotations.js';
import type { Parsed } from '../parse/result.js';
import { readLivenessPath, readReadinessProbe, type ProbeFields } from './probe.js';
import { validateFields } from './validate.js';

export type IntentSource =
  | 'BackendConfig'
  | typeof ANNOTATION.healthPaths
  | typeof ANNOTATION.healthPath
  | 'readinessProbe'
  | 'livenessProbe'
  /** A user's HealthCheckPolicy owns a Gateway backend's check (plan/gateway.ts). */
  | 'HealthCheckPolicy';

interface BackendConfigOwnership {
  readonly name: string;
  /** Fields the BackendConfig sets: ingress-gce owns and enforces them, hcsync never patches them. */
  readonly fields: OwnedFields;
  /** `spec.healthCheck.port`: the check probes this fixed port, so every field is the BackendConfig's (docs §3.2, §5.8). */
  readonly port?: number;
}

export type PortIntent =
  | {
      readonly kind: 'desired';
      /** Where the patchable fields come from (BackendConfig when it alone gives intent). */
      readonly source: IntentSource;
      /** Fields hcsync may patch. */
      readonly desired: OwnedFields;
      readonly backendConfig?: BackendConfigOwnership;
      /** An hcsync annotation that disagrees with the BackendConfig. */
      readonly conflict?: string;
      readonly warnings: readonly string[];
    }
  | { readonly kind: 'none'; readonly why: string; readonly warnings: readonly string[] }
  | { readonly kind: 'hold'; readonly why: string }
  | { readonly kind: 'invalid'; readonly error: string };

export interface IntentInput {
  readonly service: SlimService;
  readonly port: SlimServicePort;
  /** Pods selected by the Service (filtering of terminating ones happens here). */
  readonly pods: readonly SlimPod[];
  readonly backendConfig: (name: string) => SlimBackendConfig | undefined;
  readonly backendKind: BackendKind;
  readonly inferFromLiveness: boolean;
}

/**
 * What intent needs of one Service, read once for all its ports: its annotations parsed, its
 * serving Pods sorted. A Service with thousands of ports then costs one parse, not one per port.
 */
export interface ServiceIntentContext {
  readonly service: SlimService;
  readonly pods: readonly SlimPod[];
  readonly backendConfig: (name: string) => SlimBackendConfig | undefined;
  readonly inferFromLiveness: boolean;
  readonly backendConfigRef: Parsed<BackendConfigRef | undefined>;
  readonly healthPaths: Parsed<ReadonlyMap<string, string> | undefined>;
  readonly appProtocols: Parsed<ReadonlyMap<string, AppProtocol>>;
  readonly transparentHealthCheck: Parsed<boolean>;
}

/** Parses the Service's annotations and sorts its serving Pods, once per Service (see ServiceIntentContext). */
export function serviceIntentContext(input: Omit<IntentInput, 'port' | 'backendKind'>): ServiceIntentContext {
  const annotations = input.service.metadata.annotations;
  return {
    service: input.service,
    pods: servingPods(input.pods),
    backendConfig: input.backendConfig,
    inferFromLiveness: input.inferFromLiveness,
    backendConfigRef: parseBackendConfigRef(annotations),
    healthPaths: parseHealthPaths(annotations),
    appProtocols: parseAppProtocols(annotations),
    transparentHealthCheck: parseTransparentHealthCheck(annotations),
  };
}

function backendConfigFields(hc: BackendConfigHealthCheck | undefined): OwnedFields {
  if (!hc) return {};
  const f: { -readonly [K in keyof OwnedFields]: OwnedFields[K] } = {};
  if (hc.requestPath !== undefined) f.requestPath = hc.requestPath;
  if (hc.checkIntervalSec !== undefined) f.checkIntervalSec = hc.checkIntervalSec;
  if (hc.timeoutSec !== undefined) f.timeoutSec = hc.timeoutSec;
  return f;
}

/**
 * Pods that serve or will serve — not terminating and not finished (a rollout's old and new Pods) —
 * oldest first, so that intent reads the same Pods in the same order on every pass.
 */
function servingPods(pods: readonly SlimPod[]): SlimPod[] {
  return pods
    .filter((p) => !p.metadata.deletionTimestamp && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed')
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
}

type ProbeIntent =
  | { kind: 'readiness'; fields: ProbeFields; container: string }
  | { kind: 'liveness'; requestPath: string; container: string; readinessWhy: string }
  | { kind: 'none'; why: string };

function probeIntentOf(
  pod: SlimPod,
  ctx: ServiceIntentContext,
  port: SlimServicePort,
  backendKind: BackendKind,
  appProtocol: AppProtocol,
): ProbeIntent {
  const r = readReadinessProbe(pod, port, appProtocol, backendKind);
  if (r.ok) return { kind: 'readiness', fields: r.fields, container: r.container };
  if (ctx.inferFromLiveness) {
    const l = readLivenessPath(pod, port);
    if (l) return { kind: 'liveness', requestPath: l.requestPath, container: l.container, readinessWhy: r.why };
  }
  return { kind: 'none', why: r.why };
}

function probeSignature(p: ProbeIntent): string {
  switch (p.kind) {
    case 'readiness':
      return `readinessProbe ${JSON.stringify(p.fields)}`;
    case 'liveness':
      return `livenessProbe {"requestPath":${JSON.stringify(p.requestPath)}}`;
    case 'none':
      return 'no usable probe';
  }
}

type LowerIntent =
  | { kind: 'desired'; source: IntentSource; desired: OwnedFields; warnings: string[] }
  | { kind: 'none'; why: string; warnings: string[] }
  | { kind: 'hold'; why: string }
  | { kind: 'invalid'; error: string };

/** Rules 2–6: annotations, then the probes of the Service's current Pods. */
function intentBelowBackendConfig(ctx: ServiceIntentContext, port: SlimServicePort, backendKind: BackendKind): LowerIntent {
  const { service } = ctx;
  const where = `Service ${service.metadata.namespace}/${service.metadata.name}`;
  const paths = ctx.healthPaths;
  if (!paths.ok) return { kind: 'invalid', error: `${where}: ${paths.error}` };
  const fromMap = paths.value && ((port.name !== undefined ? paths.value.get(port.name) : undefined) ?? paths.value.get(String(port.port)));
  if (fromMap !== undefined) return { kind: 'desired', source: ANNOTATION.healthPaths, desired: { requestPath: fromMap }, warnings: [] };
  const single = service.metadata.annotations?.[ANNOTATION.healthPath];
  if (single !== undefined)
    return { kind: 'desired', source: ANNOTATION.healthPath, desired: { requestPath: single.trim() }, warnings: [] };

  const protocols = ctx.appProtocols;
  if (!protocols.ok) return { kind: 'invalid', error: `${where}: ${protocols.error}` };
  const appProtocol = (port.name !== undefined ? protocols.value.get(port.name) : undefined) ?? 'HTTP';

  const readings = ctx.pods.map((p) => ({ pod: p.metadata.name, intent: probeIntentOf(p, ctx, port, backendKind, appProtocol) }));
  const first = readings[0]?.intent;
  if (first === undefined)
    return { kind: 'none', why: 'no annotation, and no running Pod selected by the Service to read a probe from', warnings: [] };
  const variants = new Map<string, string[]>();
  for (const r of readings) {
    const sig = probeSignature(r.intent);
    variants.set(sig, [...(variants.get(sig) ?? []), r.pod]);
  }
  if (variants.size > 1) {
    const list = [...variants].map(([sig, names]) => `${names.length} Pod(s) with ${sig}`).join(', ');
    return { kind: 'hold', why: `Pods disagree (rollout in progress): ${list}; holding until every serving Pod agrees` };
  }
  switch (first.kind) {
    case 'readiness':
      return { kind: 'desired', source: 'readinessProbe', desired: first.fields, warnings: [] };
    case 'liveness':
      return {
        kind: 'desired',
        source: 'livenessProbe',
        desired: { requestPath: first.requestPath },
        warnings: [
          `no usable readinessProbe (${first.readinessWhy}); using the livenessProbe path of container ${first.container} — add a readinessProbe`,
        ],
      };
    case 'none':
      return { kind: 'none', why: `no annotation and no usable probe: ${first.why}`, warnings: [] };
  }
}

/**
 * The intended health check for one Service port, by the contract's precedence (BackendConfig,
 * then hcsync.io/health-paths, health-path, readinessProbe, livenessProbe), validated. Fields a
 * BackendConfig sets are reported as ingress-gce's, never as hcsync's to patch; a rollout whose
 * Pods disagree holds; an annotation that contradicts the BackendConfig is a conflict.
 */
export function intentForPort(input: IntentInput): PortIntent {
  return intentForServicePort(serviceIntentContext(input), input.port, input.backendKind);
}

/** intentForPort over a Service's context parsed once (serviceIntentContext): what assessment calls per port. */
export function intentForServicePort(ctx: ServiceIntentContext, port: SlimServicePort, backendKind: BackendKind): PortIntent {
  const { service } = ctx;
  const svcName = `Service ${service.metadata.namespace}/${service.metadata.name}`;
  const where = `${svcName} port ${portLabel(port)}`;
  const ref = ctx.backendConfigRef;
  if (!ref.ok) return { kind: 'invalid', error: `${svcName}: ${ref.error}` };

  const warnings: string[] = [];
  let owner: BackendConfigOwnership | undefined;
  let hasBackendConfigHealthCheck = false;
  if (ref.value) {
    const name =
      (port.name !== undefined ? ref.value.ports.get(port.name) : undefined) ?? ref.value.ports.get(String(port.port)) ?? ref.value.default;
    if (name !== undefined) {
      const bc = ctx.backendConfig(name);
      // Not in the cache: not synced yet, the list failed, or it does not exist. Without it hcsync
      // cannot tell which fields ingress-gce owns, so it holds rather than patch them
      // (ingress-gce itself fails this port's sync while a named BackendConfig is missing, docs §3.3).
      if (!bc) {
        return {
          kind: 'hold',
          why: `BackendConfig ${service.metadata.namespace}/${name}, which annotation ${ANNOTATION.backendConfig} names for port ${portLabel(port)}, is not known to hcsync (not created, not synced yet, or not readable); holding until it can be read, since ingress-gce owns the fields it sets`,
        };
      }
      hasBackendConfigHealthCheck = bc.healthCheck !== undefined;
      const fields = backendConfigFields(bc.healthCheck);
      const bcPort = bc.healthCheck?.port;
      if (Object.keys(fields).length > 0 || bcPort !== undefined)
        owner = { name, fields, ...(bcPort !== undefined ? { port: bcPort } : {}) };
    }
  }

  // GKE's transparent health check (NEG only; ignored when a BackendConfig healthCheck exists, docs §2):
  // ingress-gce rewrites every field of that check on every sync (§5.4 (a)), so it is not the app's.
  const thc = ctx.transparentHealthCheck;
  if (!thc.ok) return { kind: 'invalid', error: `${svcName}: ${thc.error}` };
  if (thc.value && backendKind !== 'ig' && !hasBackendConfigHealthCheck) {
    return {
      kind: 'none',
      why: `annotation ${ANNOTATION.transparentHealthChecker} enables GKE's transparent health check, which probes its own fixed port and path and which ingress-gce rewrites on every sync; hcsync leaves it alone`,
      warnings,
    };
  }

  const lower = intentBelowBackendConfig(ctx, port, backendKind);
  if (lower.kind === 'invalid') return lower;

  // A BackendConfig port: the check probes that port, not the serving port the probe and the
  // annotations speak of. hcsync leaves requestPath, host and timing to the BackendConfig and
  // reports drift of its own fields only; an hcsync annotation that cannot apply is a conflict.
  if (owner?.port !== undefined) {
    const conflict =
      lower.kind === 'desired' && lower.source.startsWith('hcsync.io/')
        ? `${lower.source} gives a path for the serving port, but BackendConfig ${owner.name} sets port ${owner.port}, so the check probes that port; the BackendConfig wins (set requestPath there)`
        : undefined;
    return {
      kind: 'desired',
      source: 'BackendConfig',
      desired: {},
      backendConfig: owner,
      ...(conflict ? { conflict } : {}),
      warnings: [...warnings, ...(lower.kind === 'desired' || lower.kind === 'none' ? lower.warnings : [])],
    };
  }

  // A rollout matters unless the BackendConfig pins the path anyway.
  if (lower.kind === 'hold' && owner?.fields.requestPath === undefined) return lower;

  if (lower.kind === 'desired') {
    const bad = validateFields(lower.desired);
    if (bad) return { kind: 'invalid', error: `${where}: ${bad} (from ${lower.source})` };
  }

  if (!owner) {
    if (lower.kind === 'none') return { kind: 'none', why: lower.why, warnings: [...warnings, ...lower.warnings] };
    if (lower.kind === 'hold') return lower;
    return { kind: 'desired', source: lower.source, desired: lower.desired, warnings: [...warnings, ...lower.warnings] };
  }

  // A BackendConfig sets some fields: those belong to ingress-gce. The lower source may still
  // give the others (e.g. the BackendConfig sets only the interval, the probe gives the path).
  const desired: { -readonly [K in keyof OwnedFields]: OwnedFields[K] } = {};
  let conflict: string | undefined;
  if (lower.kind === 'desired') {
    for (const [k, v] of Object.entries(lower.desired) as [keyof OwnedFields, never][]) {
      if (owner.fields[k] === undefined) desired[k] = v;
      else if (owner.fields[k] !== v && lower.source.startsWith('hcsync.io/')) {
        conflict = `${lower.source} says ${k} ${JSON.stringify(v)} but BackendConfig ${owner.name} sets ${JSON.stringify(owner.fields[k])}; the BackendConfig wins (change it there)`;
      }
    }
  }
  const hasLower = lower.kind === 'desired' && Object.keys(desired).length > 0;
  return {
    kind: 'desired',
    source: hasLower ? lower.source : 'BackendConfig',
    desired,
    backendConfig: owner,
    ...(conflict ? { conflict } : {}),
    warnings: [...warnings, ...(lower.kind === 'desired' || lower.kind === 'none' ? lower.warnings : [])],
  };
}
