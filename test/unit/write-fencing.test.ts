// Write fencing and the global write pause, with fakes: a replica that stopped leading sends no
// patch, status write or Event; writes queued in the limiter are dropped and an Operation wait is
// abandoned on step-down; a rate-limited write pauses every write, not just its key.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Fence, FencedEventRecorder, FencedPatcher, FencedStatusWriter, NotLeaderError } from '../../src/controller/fence.js';
import { RateLimitedPatcher, WriteDroppedError } from '../../src/controller/write-limiter.js';
import { GcpError } from '../../src/gcp/errors.js';
import type { HealthCheckPatcher, PatchTarget } from '../../src/model/ports.js';
import type { SlimService } from '../../src/model/kube.js';

const target = (name: string): PatchTarget => ({ name, scope: { kind: 'global' }, type: 'HTTP' });
const svc = { metadata: { namespace: 'ns', name: 'web', uid: 'u', generation: 1 } } as unknown as SlimService;

/** A patcher that records what it sent and answers as scripted (default: applied after `ms`). */
function fakePatcher(answer: (name: string, n: number) => Promise<void> = () => Promise.resolve()) {
  const sent: { name: string; at: number }[] = [];
  const start = Date.now();
  const patcher: HealthCheckPatcher = {
    patchHealthCheck: (t) => {
      sent.push({ name: t.name, at: Date.now() - start });
      return answer(t.name, sent.length);
    },
  };
  return { patcher, sent };
}

describe('write fencing', () => {
  it('refuses every write once this replica is not the leader (checked right before the write)', async () => {
    let leading = true;
    const fence = new Fence(() => leading);
    const { patcher, sent } = fakePatcher();
    const status: string[] = [];
    const events: string[] = [];
    const p = new FencedPatcher(patcher, fence);
    const s = new FencedStatusWriter({ writeCondition: () => Promise.resolve(void status.push('c')) }, fence);
    const e = new FencedEventRecorder({ emit: () => Promise.resolve(void events.push('e')) }, fence);
    await p.patchHealthCheck(target('a'), { requestPath: '/x' }, 'r1');
    await s.writeCondition(svc, {} as never);
    await e.emit(svc, { reason: 'HealthCheckPatched', type: 'Normal', note: 'n' } as never);
    leading = false; // e.g. renewDeadline passed without a renewal
    await assert.rejects(p.patchHealthCheck(target('a'), { requestPath: '/y' }, 'r2'), NotLeaderError);
    await assert.rejects(s.writeCondition(svc, {} as never), NotLeaderError);
    await assert.rejects(e.emit(svc, { reason: 'HealthCheckPatched', type: 'Normal', note: 'n' } as never), NotLeaderError);
    assert.deepEqual(
      sent.map((x) => x.name),
      ['a'],
    );
    assert.deepEqual([status.length, events.length], [1, 1]);
  });

  it('a patch queued in the write limiter when leadership is lost is never sent', async () => {
    let leading = true;
    const fence = new Fence(() => leading);
    const { patcher, sent } = fakePatcher();
    // 1 write/s: the second and third wait about a second for their turn.
    const limiter = new RateLimitedPatcher(new FencedPatcher(patcher, fence), 1);
    const first = limiter.patchHealthCheck(target('a'), { requestPath: '/a' }, 'r1');
    const second = limiter.patchHealthCheck(target('b'), { requestPath: '/b' }, 'r2');
    await first;
    assert.equal(limiter.waitingWrites, 1);
    leading = false; // the Lease is lost while b waits for its turn
    await assert.rejects(second, NotLeaderError, 'checked when it leaves the queue, not when it joined');
    assert.deepEqual(
      sent.map((x) => x.name),
      ['a'],
    );
  });

  it('step-down drops the limiter queue at once and abandons an Operation wait', async () => {
    const fence = new Fence(() => true);
    let finishOperation!: () => void;
    const slowOperation = new Promise<void>((r) => (finishOperation = r));
    const { patcher, sent } = fakePatcher((name) => (name === 'slow' ? slowOperation : Promise.resolve()));
    const limiter = new RateLimitedPatcher(new FencedPatcher(patcher, fence), 1);
    const slow = limiter.patchHealthCheck(target('slow'), { requestPath: '/s' }, 'r1');
    const queued = limiter.patchHealthCheck(target('queued'), { requestPath: '/q' }, 'r2');
    await sleep(20);
    const t0 = Date.now();
    // What Controller.stepDown does.
    fence.close('lost leadership');
    limiter.dropQueued('lost leadership');
    await assert.rejects(slow, NotLeaderError, 'the wait on the slow Operation is abandoned');
    await assert.rejects(queued, WriteDroppedError);
    assert.ok(Date.now() - t0 < 100, 'without waiting for the pace or the Operation');
    await assert.rejects(limiter.patchHealthCheck(target('later'), {}, 'r3'), WriteDroppedError);
    finishOperation();
    await sleep(1100);
    assert.deepEqual(
      sent.map((x) => x.name),
      ['slow'],
    );
  });
});

describe('global write pause after a rate-limited write', () => {
  it('pauses every write (any key) for the backoff, then resumes; a success resets it', async () => {
    const rateLimited = new GcpError('rate_limited', 403, 'Quota exceeded for quota metric Queries (rateLimitExceeded)');
    const { patcher, sent } = fakePatcher((_name, n) => (n === 1 ? Promise.reject(rateLimited) : Promise.resolve()));
    const pauses: number[] = [];
    const limiter = new RateLimitedPatcher(patcher, 100, { pause: { baseMs: 300, maxMs: 1000 }, onPause: (ms) => pauses.push(ms) });
    await assert.rejects(limiter.patchHealthCheck(target('a'), {}, 'r1'), GcpError);
    assert.equal(limiter.paused, true);
    // Another Service's check: not this key's backoff, yet it waits too.
    const other = limiter.patchHealthCheck(target('b'), {}, 'r2');
    await sleep(150);
    assert.equal(sent.length, 1, 'nothing sent during the pause');
    await other;
    assert.ok(sent[1]!.at >= 280, `b sent after ${sent[1]!.at} ms, within the 300 ms pause`);
    assert.deepEqual(pauses, [300]);
    assert.equal(limiter.paused, false);
  });

  it('writes failing together while paused count once; the next pause doubles', async () => {
    const rateLimited = new GcpError('rate_limited', 429, 'Too Many Requests');
    let failing = true;
    const { patcher } = fakePatcher(() => (failing ? Promise.reject(rateLimited) : Promise.resolve()));
    const pauses: number[] = [];
    const limiter = new RateLimitedPatcher(patcher, 100, { pause: { baseMs: 100, maxMs: 1000 }, onPause: (ms) => pauses.push(ms) });
    // Two in flight at once, both rate-limited: one pause.
    await Promise.allSettled([limiter.patchHealthCheck(target('a'), {}, 'r1'), limiter.patchHealthCheck(target('b'), {}, 'r2')]);
    assert.deepEqual(pauses, [100]);
    await assert.rejects(limiter.patchHealthCheck(target('c'), {}, 'r3')); // after the pause, still limited
    assert.deepEqual(pauses, [100, 200]);
    failing = false;
    await limiter.patchHealthCheck(target('d'), {}, 'r4');
    failing = true;
    await assert.rejects(limiter.patchHealthCheck(target('e'), {}, 'r5'));
    assert.deepEqual(pauses, [100, 200, 100], 'a success starts the schedule over');
  });

  it('other errors do not pause writes', async () => {
    const { patcher } = fakePatcher((_n, i) =>
      i === 1 ? Promise.reject(new GcpError('retryable', 503, 'backend error')) : Promise.resolve(),
    );
    const limiter = new RateLimitedPatcher(patcher, 100, { pause: { baseMs: 5000, maxMs: 5000 } });
    await assert.rejects(limiter.patchHealthCheck(target('a'), {}, 'r1'));
    assert.equal(limiter.paused, false);
    await limiter.patchHealthCheck(target('b'), {}, 'r2');
  });
});
