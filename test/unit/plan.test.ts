// Desired vs live → plan, and plan → condition and events. Pure, table-driven.
import assert from 'node:assert/strict';
import { planPort, type PortPlan } from '../../src/plan/port-plan.js';
import type { PortIntent } from '../../src/intent/intent.js';
import { buildCondition, conditionChanged } from '../../src/plan/condition.js';
import { plannedEvents } from '../../src/plan/events.js';
import { isDrift } from '../../src/plan/states.js';
import type { PortReport } from '../../src/plan/outcome.js';
import { liveCheck } from '../support/fixtures.js';

const probeIntent = (
  desired: Extract<PortIntent, { kind: 'desired' }>['desired'],
  source: Extract<PortIntent, { kind: 'desired' }>['source'] = 'readinessProbe',
): PortIntent => ({ kind: 'desired', source, desired, warnings: [] });

describe('plan: desired vs live', () => {
  const cases: {
    name: string;
    intent: PortIntent;
    live?: ReturnType<typeof liveCheck>;
    mode?: 'enforce' | 'observe';
    expect: (p: PortPlan) => void;
  }[] = [
    {
      name: 'no difference → in_sync, nothing to write',
      intent: probeIntent({ requestPath: '/ready', host: '', timeoutSec: 15, checkIntervalSec: 15 }),
      live: liveCheck({ requestPath: '/ready' }),
      expect: (p) => assert.equal(p.state, 'in_sync'),
    },
    {
      name: 'an absent live path means "/" (normalised before diffing)',
      intent: probeIntent({ requestPath: '/' }),
      live: { ...liveCheck(), block: { requestPath: '', host: '' } },
      expect: (p) => assert.equal(p.state, 'in_sync'),
    },
    {
      name: 'a different path in enforce → patch with only the changed owned fields',
      intent: probeIntent({ requestPath: '/ready', host: '', timeoutSec: 15, checkIntervalSec: 15 }),
      live: liveCheck({ requestPath: '/' }),
      expect: (p) => {
        assert.equal(p.state, 'patch');
        assert.deepEqual(p.state === 'patch' && p.patch, { requestPath: '/ready' });
      },
    },
    {
      name: 'observe mode → drifted, never patch',
      intent: probeIntent({ requestPath: '/ready' }),
      live: liveCheck({ requestPath: '/' }),
      mode: 'observe',
      expect: (p) => assert.equal(p.state, 'drifted'),
    },
    {
      name: 'timeout above the live interval once applied → invalid, nothing sent',
      intent: probeIntent({ timeoutSec: 20 }),
      live: liveCheck({ checkIntervalSec: 15, timeoutSec: 15 }),
      expect: (p) => {
        assert.equal(p.state, 'invalid');
        assert.match(p.state === 'invalid' ? p.why : '', /timeoutSec 20 is greater than checkIntervalSec 15/);
      },
    },
    {
      name: 'timeout equal to interval is accepted (GKE defaults are 15/15)',
      intent: probeIntent({ timeoutSec: 10, checkIntervalSec: 10 }),
      live: liveCheck(),
      expect: (p) => assert.equal(p.state, 'patch'),
    },
    {
      name: 'BackendConfig-owned field differs → drifted (ingress-gce restores it), not patched',
      intent: {
        kind: 'desired',
        source: 'BackendConfig',
        desired: {},
        backendConfig: { name: 'bc', fields: { requestPath: '/bc' } },
        warnings: [],
      },
      live: liveCheck({ requestPath: '/hand-edited' }),
      expect: (p) => {
        assert.equal(p.state, 'drifted');
        assert.match(p.state === 'drifted' ? p.why : '', /BackendConfig bc owns requestPath/);
      },
    },
    {
      name: 'no live check yet → not_ready',
      intent: probeIntent({ requestPath: '/ready' }),
      expect: (p) => assert.equal(p.state, 'not_ready'),
    },
    {
      name: 'a TCP check is not hcsync’s to manage → no_intent',
      intent: probeIntent({ requestPath: '/ready' }),
      live: { ...liveCheck(), type: 'TCP' },
      expect: (p) => assert.equal(p.state, 'no_intent'),
    },
    {
      name: 'conflict is reported as such',
      intent: {
        kind: 'desired',
        source: 'hcsync.io/health-path',
        desired: {},
        backendConfig: { name: 'bc', fields: { requestPath: '/bc' } },
        conflict: 'x disagrees',
        warnings: [],
      },
      live: liveCheck({ requestPath: '/bc' }),
      expect: (p) => assert.equal(p.state, 'conflict'),
    },
    {
      name: 'rollout hold passes through',
      intent: { kind: 'hold', why: 'Pods disagree' },
      live: liveCheck(),
      expect: (p) => assert.equal(p.state, 'hold'),
    },
    {
      name: 'clearing a host is a change to ""',
      intent: probeIntent({ host: '' }),
      live: liveCheck({ host: 'old.example.com' }),
      expect: (p) => assert.deepEqual(p.state === 'patch' && p.patch, { host: '' }),
    },
  ];
  for (const c of cases) it(c.name, () => c.expect(planPort({ intent: c.intent, live: c.live, mode: c.mode ?? 'enforce' })));
});

describe('report: condition and events', () => {
  const port = { name: 'http', port: 80, targetPort: 8000 };
  const report = (outcome: PortReport['outcome'], warnings: string[] = []): PortReport => ({
    port,
    healthCheck: 'k8s1-x',
    outcome,
    warnings,
  });
  const now = '2026-11-25T00:00:00Z';

  it('patched → True/Patched naming port, check, old → new and the source', () => {
    const c = buildCondition({
      reports: [
        report({ state: 'patched', source: 'livenessProbe', changes: [{ field: 'requestPath', live: '/', intended: '/health-check' }] }),
      ],
      previous: undefined,
      generation: 3,
      now,
    });
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'Patched');
    assert.equal(c.observedGeneration, 3);
    assert.match(c.message, /port http\/80 \(k8s1-x\): patched requestPath "\/" → "\/health-check" \(from livenessProbe\)/);
  });

  it('the worst port decides: InvalidIntent beats InSync', () => {
    const c = buildCondition({
      reports: [report({ state: 'in_sync', source: 'readinessProbe' }), report({ state: 'invalid', why: 'bad' })],
      previous: undefined,
      generation: 1,
      now,
    });
    assert.deepEqual([c.status, c.reason], ['False', 'InvalidIntent']);
  });

  it('each state maps to the contract reason and status', () => {
    const table: [PortReport['outcome'], string, string][] = [
      [{ state: 'in_sync', source: 'readinessProbe' }, 'True', 'InSync'],
      [{ state: 'drifted', source: 'readinessProbe', changes: [], why: '' }, 'False', 'Drifted'],
      [{ state: 'patch_failed', source: 'readinessProbe', changes: [], error: 'x' }, 'False', 'PatchFailed'],
      [{ state: 'conflict', why: '', changes: [] }, 'False', 'Conflict'],
      [{ state: 'hold', why: '' }, 'False', 'RolloutInProgress'],
      [{ state: 'no_intent', why: '' }, 'Unknown', 'NoIntent'],
      [{ state: 'not_ready', why: '' }, 'Unknown', 'BackendNotReady'],
    ];
    for (const [outcome, status, reason] of table) {
      const c = buildCondition({ reports: [report(outcome)], previous: undefined, generation: 1, now });
      assert.deepEqual([c.status, c.reason], [status, reason], outcome.state);
    }
  });

  it('a check hcsync patched stays Patched while it holds (not flipped to InSync)', () => {
    const prev = buildCondition({
      reports: [report({ state: 'patched', source: 'readinessProbe', changes: [] })],
      previous: undefined,
      generation: 1,
      now,
    });
    const next = buildCondition({
      reports: [report({ state: 'in_sync', source: 'readinessProbe' })],
      previous: prev,
      generation: 1,
      now: '2026-11-26T00:00:00Z',
    });
    assert.equal(next.reason, 'Patched');
    assert.equal(next.lastTransitionTime, now, 'status unchanged → transition time kept');
  });

  it('lastTransitionTime moves only when the status changes', () => {
    const prev = buildCondition({
      reports: [report({ state: 'in_sync', source: 'readinessProbe' })],
      previous: undefined,
      generation: 1,
      now,
    });
    const next = buildCondition({
      reports: [report({ state: 'drifted', source: 'readinessProbe', changes: [], why: '' })],
      previous: prev,
      generation: 1,
      now: 'later',
    });
    assert.equal(next.lastTransitionTime, 'later');
  });

  it('in sync with a BackendConfig: the message names it for the fields it owns', () => {
    const c = buildCondition({
      reports: [report({ state: 'in_sync', source: 'readinessProbe', ownedBy: { backendConfig: 'bc', fields: ['requestPath'] } })],
      previous: undefined,
      generation: 1,
      now,
    });
    assert.match(c.message, /in sync \(requestPath from BackendConfig bc; the rest from readinessProbe\)/);
  });

  it('no write when nothing differs', () => {
    const c = buildCondition({
      reports: [report({ state: 'in_sync', source: 'readinessProbe' })],
      previous: undefined,
      generation: 1,
      now,
    });
    assert.equal(conditionChanged(c, { ...c }), false);
    assert.equal(conditionChanged(c, { ...c, message: 'other' }), true);
  });

  it('events: an unchanged condition repeats no Warning; a patch is always an Event', () => {
    const drift = report({ state: 'drifted', source: 'readinessProbe', changes: [], why: '' });
    assert.deepEqual(plannedEvents([drift], false), []);
    assert.deepEqual(
      plannedEvents([drift], true).map((e) => e.reason),
      ['HealthCheckDrifted'],
    );
    const patched = report({ state: 'patched', source: 'readinessProbe', changes: [] });
    assert.deepEqual(
      plannedEvents([patched], false).map((e) => [e.type, e.reason]),
      [['Normal', 'HealthCheckPatched']],
    );
  });

  it('events: liveness fallback warns once with the condition change', () => {
    const r = report({ state: 'patched', source: 'livenessProbe', changes: [] }, ['add a readinessProbe']);
    assert.deepEqual(
      plannedEvents([r], true).map((e) => e.reason),
      ['HealthCheckPatched', 'LivenessProbeFallback'],
    );
    assert.deepEqual(
      plannedEvents([r], false).map((e) => e.reason),
      ['HealthCheckPatched'],
    );
  });

  it('events: invalid, conflict and failed patches have their own reasons', () => {
    const reasons = plannedEvents(
      [
        report({ state: 'invalid', why: 'x' }),
        report({ state: 'conflict', why: 'y', changes: [] }),
        report({ state: 'patch_failed', source: 'readinessProbe', changes: [], error: 'z' }),
      ],
      true,
    ).map((e) => e.reason);
    assert.deepEqual(reasons, ['InvalidHealthIntent', 'HealthCheckConflict', 'HealthCheckPatchFailed']);
  });

  it('drift gauge is 1 for drifted and failed patches, 0 in sync', () => {
    assert.equal(isDrift({ state: 'drifted', source: 'readinessProbe', changes: [], why: '' }), true);
    assert.equal(isDrift({ state: 'patch_failed', source: 'readinessProbe', changes: [], error: '' }), true);
    assert.equal(isDrift({ state: 'patched', source: 'readinessProbe', changes: [] }), false);
    assert.equal(isDrift({ state: 'in_sync', source: 'readinessProbe' }), false);
  });
});
