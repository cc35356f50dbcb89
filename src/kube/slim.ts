// Raw API objects → the slim shapes of model/kube.ts. Objects from a list are deserialized by
// client-node (Dates), objects from a watch are raw JSON (strings): both are accepted here.
import type {
  IngressBackendRef,
  SlimBackendConfig,
  SlimCondition,
  SlimContainer,
  SlimIngress,
  SlimMeta,
  SlimUidMeta,
  SlimPod,
  SlimProbe,
  SlimService,
} from '../model/kube.js';
import type {
  PolicyDefault,
  RouteBackendRef,
  RouteKind,
  RouteParentRef,
  RouteParentStatus,
  SlimGateway,
  SlimGatewayClass,
  SlimHealthCheckPolicy,
  SlimReferenceGrant,
  SlimRoute,
} from '../model/gateway.js';
import { ANNOTATION } from '../parse/annotations.js';
import { Interner } from './intern.js';
import { StringTable } from '../lib/string-table.js';

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const time = (v: unknown): string | undefined => (v instanceof Date ? v.toISOString() : str(v));
/** A timestamp as one shared string (`timestamps`), undefined when absent or empty. */
const timestamp = (v: unknown): string | undefined => {
  const t = time(v);
  return t ? timestamps.intern(t) : undefined;
};
const intOrString = (v: unknown): number | string | undefined => (typeof v === 'number' || typeof v === 'string' ? v : undefined);
// `{ key: v }` to spread into a slim object when v is there (`present`: not undefined; `nonEmpty`: not
// undefined or ''), else `{}`: slim objects carry no `key: undefined`.
const present = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> =>
  v === undefined ? {} : ({ [key]: v } as Record<K, V>);
const nonEmpty = <K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> =>
  v ? ({ [key]: v } as Record<K, string>) : {};

function stringMap(v: unknown): Record<string, string> | undefined {
  const o = obj(v);
  const keys = Object.keys(o);
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) if (typeof o[k] === 'string') out[k] = o[k];
  return out;
}

// Shared parts (intern.ts): the replicas of a workload share one labels object, one container
// spec and one status per phase; a Service's ports are shared with every Service that has the
// same ones; namespaces and condition words are one string each. Module-wide so that every
// informer (one per namespace with --namespaces) shares one table; each is weak and bounded.
const strings = new StringTable();
/**
 * Timestamps (RFC 3339, to the second) are one string per second: a workload's replicas are
 * created in the same second and arrive together (a list is in name order, a rollout's events come
 * at once), so a small table shares them; it starts over past its limit.
 */
const timestamps = new StringTable(1024);
const sharedLabels = new Interner<Readonly<Record<string, string>>>();
const sharedPodSpecs = new Interner<SlimPod['spec']>();
const sharedPodStatuses = new Interner<SlimPod['status']>();
const sharedServicePorts = new Interner<SlimService['spec']['ports']>();

/** Only the annotations hcsync reads are kept (last-applied-configuration alone can be 100 KB). */
const KEPT_ANNOTATIONS = new Set<string>(Object.values(ANNOTATION));

/**
 * Slim metadata. `keepLabels` for the kinds whose labels hcsync reads (Pods, HealthCheckPolicies).
 * The uid only where asked (metaWithUid): Services and HealthCheckPolicies; a Pod's is never read.
 * Timestamps are shared (`timestamps`): a workload's replicas are created in the same second.
 */
function meta(raw: unknown, keepLabels: boolean): SlimMeta {
  const m = obj(raw);
  const all = stringMap(m['annotations']);
  let annotations: Record<string, string> | undefined;
  if (all) {
    for (const [k, v] of Object.entries(all)) if (KEPT_ANNOTATIONS.has(k)) (annotations ??= {})[k] = v;
  }
  const allLabels = keepLabels ? stringMap(m['labels']) : undefined;
  const labels = allLabels && sharedLabels.intern(allLabels);
  const namespace = strings.intern(str(m['namespace']) ?? '');
  const name = str(m['name']) ?? '';
  const resourceVersion = str(m['resourceVersion']) ?? '';
  const generation = num(m['generation']);
  const creationTimestamp = timestamp(m['creationTimestamp']);
  const deletionTimestamp = timestamp(m['deletionTimestamp']);
  // The usual shapes as plain literals: an object built with spreads keeps room for 9 fields
  // (96 B), a literal has exactly its own (64 B for a Pod's) — 32 B on each of the cache's objects.
  if (deletionTimestamp === undefined && creationTimestamp !== undefined) {
    if (generation === undefined && annotations === undefined) {
      return labels
        ? { namespace, name, resourceVersion, labels, creationTimestamp }
        : { namespace, name, resourceVersion, creationTimestamp };
    }
    if (labels === undefined && annotations !== undefined) {
      return generation === undefined
        ? { namespace, name, resourceVersion, annotations, creationTimestamp }
        : { namespace, name, resourceVersion, generation, annotations, creationTimestamp };
    }
  }
  return {
    namespace,
    name,
    resourceVersion,
    ...present('generation', generation),
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...present('creationTimestamp', creationTimestamp),
    ...present('deletionTimestamp', deletionTimestamp),
  };
}

/** Slim metadata with the object's uid first (as metadata had it before the Pods' was dropped). */
function metaWithUid(raw: unknown, keepLabels: boolean): SlimUidMeta {
  const uid = str(obj(raw)['uid']) ?? '';
  const { namespace, name, resourceVersion, generation, labels, annotations, creationTimestamp, deletionTimestamp } = meta(raw, keepLabels);
  if (deletionTimestamp === undefined && creationTimestamp !== undefined && labels === undefined) {
    if (generation === undefined && annotations === undefined) return { namespace, name, uid, resourceVersion, creationTimestamp };
    if (annotations !== undefined) {
      return generation === undefined
        ? { namespace, name, uid, resourceVersion, annotations, creationTimestamp }
        : { namespace, name, uid, resourceVersion, generation, annotations, creationTimestamp };
    }
  }
  return {
    namespace,
    name,
    uid,
    resourceVersion,
    ...present('generation', generation),
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...present('creationTimestamp', creationTimestamp),
    ...present('deletionTimestamp', deletionTimestamp),
  };
}

export function slimService(raw: unknown): SlimService {
  const o = obj(raw);
  const spec = obj(o['spec']);
  const conditions = arr(obj(o['status'])['conditions']).map((c): SlimCondition => {
    const r = obj(c);
    const s = str(r['status']);
    const type = strings.intern(str(r['type']) ?? '');
    const status = s === 'True' || s === 'False' ? s : 'Unknown';
    const reason = strings.intern(str(r['reason']) ?? '');
    const message = str(r['message']) ?? '';
    const observedGeneration = num(r['observedGeneration']);
    const lastTransitionTime = timestamp(r['lastTransitionTime']) ?? '';
    // Literals, not a spread in the middle (which leaves room for a field more on every cached condition).
    return observedGeneration === undefined
      ? { type, status, reason, message, lastTransitionTime }
      : { type, status, reason, message, observedGeneration, lastTransitionTime };
  });
  const selector = stringMap(spec['selector']);
  const ports = sharedServicePorts.intern(
    arr(spec['ports']).map((p) => {
      const r = obj(p);
      const port = num(r['port']) ?? 0;
      return {
        ...nonEmpty('name', str(r['name'])),
        port,
        targetPort: intOrString(r['targetPort']) ?? port,
        ...present('nodePort', num(r['nodePort'])),
        ...nonEmpty('appProtocol', str(r['appProtocol'])),
      };
    }),
  );
  return {
    metadata: metaWithUid(o['metadata'], false),
    // A literal: `{ ...{ selector }, ports }` puts ports in an out-of-object property array (40 B more per Service).
    spec: selector ? { selector, ports } : { ports },
    status: { conditions },
  };
}

function slimProbe(raw: unknown): SlimProbe | undefined {
  if (raw === undefined || raw === null) return undefined;
  const p = obj(raw);
  const timing = {
    ...present('timeoutSeconds', num(p['timeoutSeconds'])),
    ...present('periodSeconds', num(p['periodSeconds'])),
  };
  if (p['httpGet']) {
    const g = obj(p['httpGet']);
    const headers = arr(g['httpHeaders']).map((h) => ({ name: str(obj(h)['name']) ?? '', value: str(obj(h)['value']) ?? '' }));
    return {
      handler: 'httpGet',
      httpGet: {
        ...present('path', str(g['path'])),
        port: intOrString(g['port']) ?? 0,
        ...nonEmpty('host', str(g['host'])),
        ...nonEmpty('scheme', str(g['scheme'])),
        ...(headers.length > 0 ? { httpHeaders: headers } : {}),
      },
      ...timing,
    };
  }
  const handler = p['tcpSocket'] ? 'tcpSocket' : p['exec'] ? 'exec' : p['grpc'] ? 'grpc' : 'none';
  return { handler, ...timing };
}

export function slimPod(raw: unknown): SlimPod {
  const o = obj(raw);
  const containers = arr(obj(o['spec'])['containers']).map((c): SlimContainer => {
    const r = obj(c);
    const readinessProbe = slimProbe(r['readinessProbe']);
    const livenessProbe = slimProbe(r['livenessProbe']);
    return {
      name: str(r['name']) ?? '',
      ports: arr(r['ports']).map((p) => {
        const q = obj(p);
        return { ...nonEmpty('name', str(q['name'])), containerPort: num(q['containerPort']) ?? 0 };
      }),
      ...(readinessProbe ? { readinessProbe } : {}),
      ...(livenessProbe ? { livenessProbe } : {}),
    };
  });
  const phase = str(obj(o['status'])['phase']);
  return {
    metadata: meta(o['metadata'], true),
    spec: sharedPodSpecs.intern({ containers }),
    status: sharedPodStatuses.intern(phase ? { phase } : {}),
  };
}

function backendRef(raw: unknown): IngressBackendRef | undefined {
  const svc = obj(obj(raw)['service']);
  const name = str(svc['name']);
  const port = obj(svc['port']);
  const ref = num(port['number']) ?? str(port['name']);
  return name && ref !== undefined ? { service: name, port: ref } : undefined;
}

export function slimIngress(raw: unknown): SlimIngress {
  const o = obj(raw);
  const spec = obj(o['spec']);
  const refs: IngressBackendRef[] = [];
  const add = (r: IngressBackendRef | undefined) => {
    if (r && !refs.some((x) => x.service === r.service && x.port === r.port)) refs.push(r);
  };
  add(backendRef(spec['defaultBackend']));
  for (const rule of arr(spec['rules'])) for (const path of arr(obj(obj(rule)['http'])['paths'])) add(backendRef(obj(path)['backend']));
  const m = meta(o['metadata'], false);
  // The class annotation stays in metadata.annotations: GKE reads it before ingressClassName (parse/ingress-class.ts).
  const ingressClassName = str(spec['ingressClassName']);
  // slice(): an array grown by push keeps room for 17 elements (152 B for one backend); the copy is exact.
  const backends = refs.slice();
  return ingressClassName !== undefined ? { metadata: m, ingressClassName, backends } : { metadata: m, backends };
}

export function slimBackendConfig(raw: unknown): SlimBackendConfig {
  const o = obj(raw);
  const hc = obj(obj(o['spec'])['healthCheck']);
  const healthCheck: Record<string, string | number> = {};
  for (const f of ['checkIntervalSec', 'timeoutSec', 'port'] as const) Object.assign(healthCheck, present(f, num(hc[f])));
  Object.assign(healthCheck, present('requestPath', str(hc['requestPath'])));
  return { metadata: meta(o['metadata'], false), ...(Object.keys(healthCheck).length > 0 ? { healthCheck } : {}) };
}

// --- Gateway API and HealthCheckPolicy (model/gateway.ts) ---

export function slimGatewayClass(raw: unknown): SlimGatewayClass {
  const o = obj(raw);
  return { metadata: meta(o['metadata'], false), controllerName: str(obj(o['spec'])['controllerName']) ?? '' };
}

export function slimGateway(raw: unknown): SlimGateway {
  const o = obj(raw);
  return { metadata: meta(o['metadata'], false), gatewayClassName: str(obj(o['spec'])['gatewayClassName']) ?? '' };
}

function parentRef(raw: unknown): RouteParentRef | undefined {
  const r = obj(raw);
  const name = str(r['name']);
  if (!name) return undefined;
  return { name, ...present('group', str(r['group'])), ...present('kind', str(r['kind'])), ...nonEmpty('namespace', str(r['namespace'])) };
}

/** An HTTPRoute or a GRPCRoute: parentRefs, every rule's backendRefs, and each controller's verdict per parent. */
export function slimRoute(kind: RouteKind): (raw: unknown) => SlimRoute {
  return (raw) => {
    const o = obj(raw);
    const spec = obj(o['spec']);
    const backendRefs: RouteBackendRef[] = [];
    for (const rule of arr(spec['rules'])) {
      for (const b of arr(obj(rule)['backendRefs'])) {
        const r = obj(b);
        const name = str(r['name']);
        if (!name) continue;
        const ref: RouteBackendRef = {
          name,
          ...present('group', str(r['group'])),
          ...present('kind', str(r['kind'])),
          ...nonEmpty('namespace', str(r['namespace'])),
          ...present('port', num(r['port'])),
        };
        if (!backendRefs.some((x) => JSON.stringify(x) === JSON.stringify(ref))) backendRefs.push(ref);
      }
    }
    const parents = arr(obj(o['status'])['parents']).flatMap((p): RouteParentStatus[] => {
      const r = obj(p);
      const ref = parentRef(r['parentRef']);
      if (!ref) return [];
      const conditions = arr(r['conditions']).map((c) => {
        const x = obj(c);
        return { type: str(x['type']) ?? '', status: str(x['status']) ?? '', ...nonEmpty('reason', str(x['reason'])) };
      });
      return [{ parentRef: ref, controllerName: str(r['controllerName']) ?? '', conditions }];
    });
    return {
      kind,
      metadata: meta(o['metadata'], false),
      parentRefs: arr(spec['parentRefs']).flatMap((p) => parentRef(p) ?? []),
      backendRefs,
      parents,
    };
  };
}

export function slimReferenceGrant(raw: unknown): SlimReferenceGrant {
  const o = obj(raw);
  const spec = obj(o['spec']);
  return {
    metadata: meta(o['metadata'], false),
    from: arr(spec['from']).map((f) => {
      const r = obj(f);
      return { group: str(r['group']) ?? '', kind: str(r['kind']) ?? '', namespace: str(r['namespace']) ?? '' };
    }),
    to: arr(spec['to']).map((t) => {
      const r = obj(t);
      return { group: str(r['group']) ?? '', kind: str(r['kind']) ?? '', ...nonEmpty('name', str(r['name'])) };
    }),
  };
}

/** A HealthCheckPolicy: labels kept (managed-by), targetRef, the `default` fields hcsync compares, status conditions, owner uids. */
export function slimHealthCheckPolicy(raw: unknown): SlimHealthCheckPolicy {
  const o = obj(raw);
  const spec = obj(o['spec']);
  const t = obj(spec['targetRef']);
  const d = spec['default'] === undefined ? undefined : obj(spec['default']);
  let def: PolicyDefault | undefined;
  if (d) {
    const c = obj(d['config']);
    const type = str(c['type']);
    const block = obj(c[type === 'HTTPS' ? 'httpsHealthCheck' : type === 'HTTP2' ? 'http2HealthCheck' : 'httpHealthCheck']);
    const config = {
      ...present('type', type),
      ...present('requestPath', str(block['requestPath'])),
      ...present('host', str(block['host'])),
      ...present('portSpecification', str(block['portSpecification'])),
      ...present('port', num(block['port'])),
    };
    def = {
      ...present('checkIntervalSec', num(d['checkIntervalSec'])),
      ...present('timeoutSec', num(d['timeoutSec'])),
      ...(Object.keys(config).length > 0 ? { config } : {}),
    };
  }
  const m = obj(o['metadata']);
  return {
    metadata: metaWithUid(m, true),
    targetRef: { group: str(t['group']) ?? '', kind: str(t['kind']) ?? '', name: str(t['name']) ?? '' },
    ...(def ? { default: def } : {}),
    conditions: arr(obj(o['status'])['conditions']).map((c) => {
      const x = obj(c);
      return {
        type: str(x['type']) ?? '',
        status: str(x['status']) ?? '',
        ...nonEmpty('reason', str(x['reason'])),
        ...nonEmpty('message', str(x['message'])),
      };
    }),
    ownerUids: arr(m['ownerReferences']).flatMap((r) => str(obj(r)['uid']) ?? []),
  };
}
