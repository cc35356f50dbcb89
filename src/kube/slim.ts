// Raw API objects → the slim shapes of model/kube.ts. Objects from a list are deserialized by
// client-node (Dates), objects from a watch are raw JSON (strings): both are accepted here.
import type {
  IngressBackendRef,
  SlimBackendConfig,
  SlimCondition,
  SlimContainer,
  SlimIngress,
  SlimMeta,
  SlimPod,
  SlimProbe,
  SlimService,
} from '../model/kube.js';
import { ANNOTATION } from '../parse/annotations.js';

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const time = (v: unknown): string | undefined => (v instanceof Date ? v.toISOString() : str(v));
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

/** Only the annotations hcsync reads are kept (last-applied-configuration alone can be 100 KB). */
const KEPT_ANNOTATIONS = new Set<string>(Object.values(ANNOTATION));

function meta(raw: unknown, keepLabels: boolean): SlimMeta {
  const m = obj(raw);
  const all = stringMap(m['annotations']);
  let annotations: Record<string, string> | undefined;
  if (all) {
    for (const [k, v] of Object.entries(all)) if (KEPT_ANNOTATIONS.has(k)) (annotations ??= {})[k] = v;
  }
  const labels = keepLabels ? stringMap(m['labels']) : undefined;
  return {
    namespace: str(m['namespace']) ?? '',
    name: str(m['name']) ?? '',
    uid: str(m['uid']) ?? '',
    resourceVersion: str(m['resourceVersion']) ?? '',
    ...present('generation', num(m['generation'])),
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...nonEmpty('creationTimestamp', time(m['creationTimestamp'])),
    ...nonEmpty('deletionTimestamp', time(m['deletionTimestamp'])),
  };
}

export function slimService(raw: unknown): SlimService {
  const o = obj(raw);
  const spec = obj(o['spec']);
  const conditions = arr(obj(o['status'])['conditions']).map((c): SlimCondition => {
    const r = obj(c);
    const status = str(r['status']);
    return {
      type: str(r['type']) ?? '',
      status: status === 'True' || status === 'False' ? status : 'Unknown',
      reason: str(r['reason']) ?? '',
      message: str(r['message']) ?? '',
      ...present('observedGeneration', num(r['observedGeneration'])),
      lastTransitionTime: time(r['lastTransitionTime']) ?? '',
    };
  });
  const selector = stringMap(spec['selector']);
  return {
    metadata: meta(o['metadata'], false),
    spec: {
      ...(selector ? { selector } : {}),
      ports: arr(spec['ports']).map((p) => {
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
    },
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
  return { metadata: meta(o['metadata'], true), spec: { containers }, status: phase ? { phase } : {} };
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
  return { metadata: m, ...(ingressClassName !== undefined ? { ingressClassName } : {}), backends: refs };
}

export function slimBackendConfig(raw: unknown): SlimBackendConfig {
  const o = obj(raw);
  const hc = obj(obj(o['spec'])['healthCheck']);
  const healthCheck: Record<string, string | number> = {};
  for (const f of ['checkIntervalSec', 'timeoutSec', 'port'] as const) Object.assign(healthCheck, present(f, num(hc[f])));
  Object.assign(healthCheck, present('requestPath', str(hc['requestPath'])));
  return { metadata: meta(o['metadata'], false), ...(Object.keys(healthCheck).length > 0 ? { healthCheck } : {}) };
}
