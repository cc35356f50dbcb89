// `hcsync diagnose` verdicts, including the blog's exact case.
import assert from 'node:assert/strict';
import { diagnose } from '../../src/plan/verdict.js';
import type { PortAssessment } from '../../src/plan/assess.js';
import { planPort } from '../../src/plan/port-plan.js';
import type { PortIntent } from '../../src/intent/intent.js';
import { liveCheck } from '../support/fixtures.js';

function assessment(intent: PortIntent, gkeState: string, livePath: string): PortAssessment {
  const live = liveCheck({ requestPath: livePath });
  return {
    port: { name: 'http', port: 8000, targetPort: 8000 },
    id: `global/${live.name}`,
    ingresses: ['web'],
    gkeState,
    live,
    intent,
    plan: planPort({ intent, live, mode: 'enforce' }),
  };
}

describe('diagnose verdicts', () => {
  it('the blog case: UNHEALTHY, probes / but the app serves /health-check (livenessProbe)', () => {
    const d = diagnose(
      assessment({ kind: 'desired', source: 'livenessProbe', desired: { requestPath: '/health-check' }, warnings: [] }, 'UNHEALTHY', '/'),
    );
    assert.equal(d.problem, true);
    assert.equal(
      d.text,
      'UNHEALTHY: the check probes / but the app serves /health-check (livenessProbe); add a readinessProbe or annotate hcsync.io/health-path',
    );
  });

  it('in sync and HEALTHY is OK (exit 0)', () => {
    const d = diagnose(
      assessment({ kind: 'desired', source: 'readinessProbe', desired: { requestPath: '/ready' }, warnings: [] }, 'HEALTHY', '/ready'),
    );
    assert.deepEqual([d.verdict, d.problem], ['OK', false]);
  });

  it('UNHEALTHY with the intended path points at the app or the firewall', () => {
    const d = diagnose(
      assessment({ kind: 'desired', source: 'readinessProbe', desired: { requestPath: '/ready' }, warnings: [] }, 'UNHEALTHY', '/ready'),
    );
    assert.equal(d.problem, true);
    assert.match(d.text, /HTTP 200/);
  });

  it('UNHEALTHY with no intent tells the user to add a probe or annotate', () => {
    const d = diagnose(assessment({ kind: 'none', why: 'no usable probe', warnings: [] }, 'UNHEALTHY', '/'));
    assert.equal(d.problem, true);
    assert.match(d.text, /add a readinessProbe or annotate hcsync.io\/health-path/);
  });

  it('a drifted HEALTHY backend is still a problem (exit 1)', () => {
    const d = diagnose(
      assessment({ kind: 'desired', source: 'readinessProbe', desired: { requestPath: '/ready' }, warnings: [] }, 'HEALTHY', '/'),
    );
    assert.deepEqual([d.verdict, d.problem], ['DRIFTED', true]);
  });
});
