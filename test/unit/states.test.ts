// The one table of port states, the port label, ingress-gce's names and the backoff formula.
import assert from 'node:assert/strict';
import { PORT_STATES, isDrift, metricStateOf, worstState } from '../../src/plan/states.js';
import type { PortOutcome, PortState } from '../../src/plan/outcome.js';
import { portLabel } from '../../src/model/kube.js';
import {
  backendNameServesPort,
  isIngressGceBackendName,
  isInstanceGroupBackendName,
  isNegBackendName,
} from '../../src/model/ingress-gce-names.js';
import { Backoff, backoffDelay } from '../../src/lib/backoff.js';

describe('port states', () => {
  const table: { state: PortState; reason: string; status: string; metric: string; event?: string }[] = [
    { state: 'invalid', reason: 'InvalidIntent', status: 'False', metric: 'invalid', event: 'InvalidHealthIntent' },
    { state: 'conflict', reason: 'Conflict', status: 'False', metric: 'conflict', event: 'HealthCheckConflict' },
    { state: 'patch_failed', reason: 'PatchFailed', status: 'False', metric: 'drifted', event: 'HealthCheckPatchFailed' },
    { state: 'drifted', reason: 'Drifted', status: 'False', metric: 'drifted', event: 'HealthCheckDrifted' },
    { state: 'hold', reason: 'RolloutInProgress', status: 'False', metric: 'drifted' },
    { state: 'not_ready', reason: 'BackendNotReady', status: 'Unknown', metric: 'not_ready' },
    { state: 'patched', reason: 'Patched', status: 'True', metric: 'in_sync', event: 'HealthCheckPatched' },
    { state: 'in_sync', reason: 'InSync', status: 'True', metric: 'in_sync' },
    { state: 'no_intent', reason: 'NoIntent', status: 'Unknown', metric: 'no_intent' },
  ];
  for (const c of table) {
    it(`${c.state}: ${c.reason} (${c.status}), metric ${c.metric}, event ${c.event ?? 'none'}`, () => {
      const r = PORT_STATES[c.state];
      assert.deepEqual([r.reason, r.status, r.metric, r.event?.reason], [c.reason, c.status, c.metric, c.event]);
    });
  }

  it('severity orders the table as listed: problems, then waiting, then good news', () => {
    const bySeverity = (Object.keys(PORT_STATES) as PortState[]).sort((a, b) => PORT_STATES[a].severity - PORT_STATES[b].severity);
    assert.deepEqual(
      bySeverity,
      table.map((c) => c.state),
    );
    assert.equal(worstState(['in_sync', 'drifted', 'patched']).reason, 'Drifted');
    assert.equal(worstState([]).reason, 'NoIntent');
  });

  it('metric state and drift read the same table', () => {
    const conflict = (n: number): PortOutcome => ({
      state: 'conflict',
      why: '',
      changes: Array.from({ length: n }, () => ({ field: 'requestPath', live: '/', intended: '/x' })),
    });
    assert.equal(metricStateOf({ state: 'hold', why: '' }), 'drifted');
    assert.equal(isDrift(conflict(0)), false);
    assert.equal(isDrift(conflict(1)), true);
  });
});

describe('port label', () => {
  const cases = [
    { port: { name: 'http', port: 80 }, want: 'http/80' },
    { port: { port: 8080 }, want: '8080' },
  ];
  for (const c of cases) it(`${JSON.stringify(c.port)} → ${c.want}`, () => assert.equal(portLabel(c.port), c.want));
});

describe('ingress-gce names', () => {
  const cases: { name: string; any: boolean; ig: boolean; neg: boolean }[] = [
    { name: 'k8s-be-31000--0123456789abcdef', any: true, ig: true, neg: false },
    { name: 'k8s1-0123abcd-default-web-80-89abcdef', any: true, ig: false, neg: true },
    { name: 'k8s2-um-xyz', any: true, ig: false, neg: false },
    { name: 'my-backend', any: false, ig: false, neg: false },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual(
        [isIngressGceBackendName(c.name), isInstanceGroupBackendName(c.name), isNegBackendName(c.name)],
        [c.any, c.ig, c.neg],
      ),
    );
  }
  const svc = { namespace: 'default', name: 'web' };
  const serves = [
    { name: 'k8s1-0123abcd-default-web-80-075be991', port: { port: 80 }, want: true },
    { name: 'k8s1-0123abcd-default-web-80-89abcdef', port: { port: 80 }, want: false }, // reads alike, wrong hash
    { name: 'k8s1-0123abcd-default-web-81-5b4c4207', port: { port: 80 }, want: false },
    { name: 'k8s1-0123abcd-default-webx-80-89abcdef', port: { port: 80 }, want: false },
    { name: 'k8s-be-31000--0123456789abcdef', port: { port: 80, nodePort: 31000 }, want: true },
    { name: 'k8s-be-31001--0123456789abcdef', port: { port: 80, nodePort: 31000 }, want: false },
  ];
  for (const c of serves)
    it(`${c.name} serves ${JSON.stringify(c.port)}: ${c.want}`, () => assert.equal(backendNameServesPort(c.name, svc, c.port), c.want));
});

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((n) => backoffDelay({ baseMs: 100, maxMs: 500 }, n)),
      [100, 200, 400, 500, 500],
    );
  });
  it('Backoff walks the schedule and starts over on reset', () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 30_000 });
    assert.deepEqual([b.next(), b.next(), b.next()], [1000, 2000, 4000]);
    b.reset();
    assert.equal(b.next(), 1000);
  });
});
