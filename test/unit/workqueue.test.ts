import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue, type WorkResult } from '../../src/controller/workqueue.js';

describe('work queue', () => {
  it('keeps at most one pending entry per key', async () => {
    const runs: string[] = [];
    const q = new WorkQueue(async (k) => {
      runs.push(k);
      await sleep(5);
      return { kind: 'done' };
    }, { concurrency: 1, baseBackoffMs: 5, maxBackoffMs: 100 });
    q.add('blocker');
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    assert.equal(q.depth, 2, 'a and b queued once each');
    await q.onIdle();
    assert.deepEqual(runs, ['blocker', 'a', 'b']);
  });

  it('an add while the key runs re-runs it exactly once afterwards', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(async () => {
      runs += 1;
      if (runs === 1) await gate;
      return { kind: 'done' };
    }, { concurrency: 2, baseBackoffMs: 5, maxBackoffMs: 100 });
    q.add('a');
    await sleep(5);
    q.add('a');
    q.add('a');
    release();
    await sleep(20);
    await q.onIdle();
    assert.equal(runs, 2);
  });

  it('backs off per key exponentially on failure and forgets on success', async () => {
    const times: number[] = [];
    let retries = 0;
    const q = new WorkQueue(async (): Promise<WorkResult> => {
      times.push(Date.now());
      return times.length < 4 ? { kind: 'error' } : { kind: 'done' };
    }, { concurrency: 1, baseBackoffMs: 20, maxBackoffMs: 1000, onRetry: () => retries++ });
    q.add('a');
    await sleep(400);
    assert.equal(times.length, 4);
    assert.equal(retries, 3);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[0]! >= 18 && gaps[1]! >= 38 && gaps[2]! >= 78, `gaps ${gaps.join(',')} should double from 20 ms`);
    assert.equal(q.backoffFor('a'), 20, 'success resets the backoff');
  });

  it('shutdown drops pending work and waits for the running one', async () => {
    let finished = false;
    const q = new WorkQueue(async (k) => {
      if (k === 'slow') {
        await sleep(30);
        finished = true;
      }
      return { kind: 'done' };
    }, { concurrency: 1, baseBackoffMs: 5, maxBackoffMs: 100 });
    q.add('slow');
    q.add('never');
    await sleep(5);
    await q.shutdown();
    assert.equal(finished, true);
    q.add('after');
    assert.equal(q.depth, 0);
  });
});
