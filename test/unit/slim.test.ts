// Slim metadata (src/kube/slim.ts): whatever shape an object's metadata has, the slim copy holds
// exactly the fields present — built as a plain literal for the usual shapes, with spreads for the
// rest — and never a `key: undefined`. Only Services and HealthCheckPolicies keep their uid (the
// objects hcsync names by uid); a Pod's, Ingress's or BackendConfig's is dropped.
import assert from 'node:assert/strict';
import { slimBackendConfig, slimHealthCheckPolicy, slimIngress, slimPod, slimService } from '../../src/kube/slim.js';

const base = { namespace: 'shop', name: 'web', uid: 'u1', resourceVersion: '7' };
const { uid: _, ...noUid } = base;
const created = '2026-11-30T10:00:00Z';
const hcsync = { 'hcsync.io/health-path': '/ready' };

describe('slim metadata shapes', () => {
  const cases: {
    name: string;
    slim: (raw: unknown) => { metadata: object };
    raw: Record<string, unknown>;
    want: Record<string, unknown>;
  }[] = [
    {
      name: 'Pod: labels and creation time',
      slim: slimPod,
      raw: { ...base, labels: { app: 'web' }, creationTimestamp: created },
      want: { ...noUid, labels: { app: 'web' }, creationTimestamp: created },
    },
    {
      name: 'Pod: terminating',
      slim: slimPod,
      raw: { ...base, labels: { app: 'web' }, creationTimestamp: created, deletionTimestamp: created },
      want: { ...noUid, labels: { app: 'web' }, creationTimestamp: created, deletionTimestamp: created },
    },
    { name: 'Pod: no labels', slim: slimPod, raw: { ...base, creationTimestamp: created }, want: { ...noUid, creationTimestamp: created } },
    { name: 'Pod: nothing optional', slim: slimPod, raw: { ...base, creationTimestamp: '' }, want: noUid },
    {
      name: 'Service: labels are not kept',
      slim: slimService,
      raw: { ...base, labels: { app: 'web' }, creationTimestamp: created },
      want: { ...base, creationTimestamp: created },
    },
    {
      name: 'Service: only the annotations hcsync reads',
      slim: slimService,
      raw: { ...base, annotations: { ...hcsync, other: 'x' }, creationTimestamp: created },
      want: { ...base, annotations: hcsync, creationTimestamp: created },
    },
    {
      name: 'Service: no annotation kept',
      slim: slimService,
      raw: { ...base, annotations: { other: 'x' }, creationTimestamp: created },
      want: { ...base, creationTimestamp: created },
    },
    {
      name: 'Ingress: generation and annotations',
      slim: slimIngress,
      raw: { ...base, generation: 3, annotations: { 'kubernetes.io/ingress.class': 'gce' }, creationTimestamp: created },
      want: { ...noUid, generation: 3, annotations: { 'kubernetes.io/ingress.class': 'gce' }, creationTimestamp: created },
    },
    {
      name: 'Ingress: generation, no annotations',
      slim: slimIngress,
      raw: { ...base, generation: 3, creationTimestamp: created },
      want: { ...noUid, generation: 3, creationTimestamp: created },
    },
    { name: 'Ingress: no creation time', slim: slimIngress, raw: { ...base, generation: 3 }, want: { ...noUid, generation: 3 } },
    {
      name: 'Service: generation, annotations, terminating',
      slim: slimService,
      raw: { ...base, generation: 2, annotations: hcsync, creationTimestamp: created, deletionTimestamp: created },
      want: { ...base, generation: 2, annotations: hcsync, creationTimestamp: created, deletionTimestamp: created },
    },
    { name: 'Service: nothing optional', slim: slimService, raw: base, want: base },
    {
      name: 'BackendConfig: no uid',
      slim: slimBackendConfig,
      raw: { ...base, creationTimestamp: created },
      want: { ...noUid, creationTimestamp: created },
    },
    {
      name: 'HealthCheckPolicy: labels and uid',
      slim: slimHealthCheckPolicy,
      raw: { ...base, labels: { 'app.kubernetes.io/managed-by': 'hcsync' }, creationTimestamp: created },
      want: { ...base, labels: { 'app.kubernetes.io/managed-by': 'hcsync' }, creationTimestamp: created },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = c.slim(JSON.parse(JSON.stringify({ metadata: c.raw, spec: {} }))).metadata;
      assert.deepStrictEqual(got, c.want);
      assert.deepEqual(
        Object.entries(got).filter(([, v]) => v === undefined),
        [],
        'no key: undefined',
      );
    });
  }
});

describe('slim Service spec and conditions', () => {
  const cond = { type: 'HealthCheckInSync', status: 'True', reason: 'InSync', message: 'ok', lastTransitionTime: created };
  const cases: { name: string; raw: Record<string, unknown>; want: Record<string, unknown> }[] = [
    {
      name: 'a selector, ports, a condition without observedGeneration',
      raw: { spec: { selector: { app: 'web' }, ports: [{ port: 80 }] }, status: { conditions: [cond] } },
      want: { spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }, status: { conditions: [cond] } },
    },
    {
      name: 'no selector; a condition with observedGeneration',
      raw: {
        spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
        status: { conditions: [{ ...cond, observedGeneration: 4 }] },
      },
      want: {
        spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
        status: { conditions: [{ ...cond, observedGeneration: 4 }] },
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = slimService(JSON.parse(JSON.stringify({ metadata: base, ...c.raw })));
      assert.deepStrictEqual({ spec: got.spec, status: got.status }, c.want);
    });
  }
});
