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
import { ANNOTATION, parseAppProtocols, parseBackendConfigRef, parseHealthPaths, type AppProtocol } from '../parse/annotations.js';
import { readLivenessPath, readReadinessProbe, type ProbeFields } from './probe.js';
import { validateFields } from './validate.js';

export type IntentSource =
  'BackendConfig' | typeof ANNOTATION.healthPaths | typeof ANNOTATION.healthPath | 'readinessProbe' | 'livenessProbe';

interface BackendConfigOwnership {
  readonly name: string;
  /** Fields the BackendConfig sets: ingress-gce owns and enforces them, hcsync never patches them. */
  readonly fields: OwnedFields;
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

function probeIntentOf(pod: SlimPod, input: IntentInput, appProtocol: AppProtocol): ProbeIntent {
  const r = readReadinessProbe(pod, input.port, appProtocol, input.backendKind);
  if (r.ok) return { kind: 'readiness', fields: r.fields, container: r.container };
  if (input.inferFromLiveness) {
    const l = readLivenessPath(pod, input.port);
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
function intentBelowBackendConfig(input: IntentInput): LowerIntent {
  const { service, port } = input;
  const where = `Service ${service.metadata.namespace}/${service.metadata.name}`;
  const paths = parseHealthPaths(service.metadata.annotations);
  if (!paths.ok) return { kind: 'invalid', error: `${where}: ${paths.error}` };
  const fromMap = paths.value && ((port.name !== undefined ? paths.value.get(port.name) : undefined) ?? paths.value.get(String(port.port)));
  if (fromMap !== undefined) return { kind: 'desired', source: ANNOTATION.healthPaths, desired: { requestPath: fromMap }, warnings: [] };
  const single = service.metadata.annotations?.[ANNOTATION.healthPath];
  if (single !== undefined)
    return { kind: 'desired', source: ANNOTATION.healthPath, desired: { requestPath: single.trim() }, warnings: [] };

  const protocols = parseAppProtocols(service.metadata.annotations);
  if (!protocols.ok) return { kind: 'invalid', error: `${where}: ${protocols.error}` };
  const appProtocol = (port.name !== undefined ? protocols.value.get(port.name) : undefined) ?? 'HTTP';

  const pods = servingPods(input.pods);
  const readings = pods.map((p) => ({ pod: p.metadata.name, intent: probeIntentOf(p, input, appProtocol) }));
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
  const { service, port } = input;
  const where = `Service ${service.metadata.namespace}/${service.metadata.name} port ${portLabel(port)}`;
  const ref = parseBackendConfigRef(service.metadata.annotations);
  if (!ref.ok) return { kind: 'invalid', error: `Service ${service.metadata.namespace}/${service.metadata.name}: ${ref.error}` };

  const warnings: string[] = [];
  let owner: BackendConfigOwnership | undefined;
  if (ref.value) {
    const name =
      (port.name !== undefined ? ref.value.ports.get(port.name) : undefined) ?? ref.value.ports.get(String(port.port)) ?? ref.value.default;
    if (name !== undefined) {
      const bc = input.backendConfig(name);
      if (!bc) warnings.push(`BackendConfig ${name} is referenced but does not exist`);
      else {
        const fields = backendConfigFields(bc.healthCheck);
        if (Object.keys(fields).length > 0) owner = { name, fields };
      }
    }
  }

  const lower = intentBelowBackendConfig(input);
  if (lower.kind === 'invalid') return lower;
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
