// The error policy: what the work queue does after each reconcile outcome.
import assert from 'node:assert/strict';
import { RETRY_BACKOFF, SLOW_BACKOFF, errorPolicy, requeueFor, type Outcome } from '../../src/controller/outcome.js';
import type { Requeue } from '../../src/controller/workqueue.js';
import { GcpError, type GcpErrorClass } from '../../src/gcp/errors.js';

describe('error policy', () => {
  const cases: { errorClass: GcpErrorClass; want: Requeue }[] = [
    { errorClass: 'invalid', want: { kind: 'forget' } },
    { errorClass: 'rate_limited', want: { kind: 'backoff', schedule: SLOW_BACKOFF } },
    { errorClass: 'forbidden', want: { kind: 'backoff', schedule: SLOW_BACKOFF } },
    { errorClass: 'retryable', want: { kind: 'backoff', schedule: RETRY_BACKOFF } },
    { errorClass: 'not_found', want: { kind: 'backoff', schedule: RETRY_BACKOFF } },
    { errorClass: 'unknown', want: { kind: 'backoff', schedule: RETRY_BACKOFF } },
  ];
  for (const c of cases)
    it(`GCP ${c.errorClass} → ${c.want.kind}`, () => assert.deepEqual(errorPolicy(new GcpError(c.errorClass, undefined, 'x')), c.want));

  it('a non-GCP error (e.g. a failed status write) retries with per-key backoff', () => {
    assert.deepEqual(errorPolicy(new Error('writing the condition: Kubernetes API 500')), { kind: 'backoff', schedule: RETRY_BACKOFF });
  });

  it('rate limits back off longer than transient errors', () => assert.ok(SLOW_BACKOFF.baseMs > RETRY_BACKOFF.baseMs));

  const outcomes: { name: string; outcome: Outcome; want: Requeue }[] = [
    { name: 'done → forget', outcome: { kind: 'done' }, want: { kind: 'forget' } },
    {
      name: 'requeueAfter → after the asked delay',
      outcome: { kind: 'requeueAfter', ms: 15_000, why: 'not ready' },
      want: { kind: 'after', ms: 15_000 },
    },
    { name: 'error → the error policy', outcome: { kind: 'error', error: new GcpError('invalid', 400, 'bad') }, want: { kind: 'forget' } },
  ];
  for (const c of outcomes) it(c.name, () => assert.deepEqual(requeueFor(c.outcome), c.want));
});
