import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue, type Requeue } from '../../src/controller/workqueue.js';

type Result = 'ok' | 'fail';
const FAST = { baseMs: 5, maxMs: 100 };
const decide = (r: Result): Requeue => (r === 'ok' ? { kind: 'forget' } : { kind: 'backoff', schedule: FAST });

describe('work queue', () => {
  it('keeps at most one pending entry per key', async () => {
    const runs: string[] = [];
    const q = new WorkQueue<Result>(
      async (k) => {
        runs.push(k);
        await sleep(5);
        return 'ok';
      },
      { concurrency: 1, decide, onThrow: FAST },
    );
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
    const q = new WorkQueue<Result>(
      async () => {
        runs += 1;
        if (runs === 1) await gate;
        return 'ok';
      },
      { concurrency: 2, decide, onThrow: FAST },
    );
    q.add('a');
    await sleep(5);
    q.add('a');
    q.add('a');
    release();
    await sleep(20);
    await q.onIdle();
    assert.equal(runs, 2);
  });

  it('backs off per key exponentially on the schedule the outcome names, and forgets on success', async () => {
    const times: number[] = [];
    let retries = 0;
    const q = new WorkQueue<Result>(
      async () => {
        times.push(Date.now());
        return times.length < 4 ? 'fail' : 'ok';
      },
      {
        concurrency: 1,
        decide: (r) => (r === 'ok' ? { kind: 'forget' } : { kind: 'backoff', schedule: { baseMs: 20, maxMs: 1000 } }),
        onThrow: FAST,
        onRetry: () => retries++,
      },
    );
    q.add('a');
    await sleep(400);
    assert.equal(times.length, 4);
    assert.equal(retries, 3);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[0]! >= 18 && gaps[1]! >= 38 && gaps[2]! >= 78, `gaps ${gaps.join(',')} should double from 20 ms`);
    assert.equal(q.failuresOf('a'), 0, 'success resets the backoff');
  });

  it('requeues after the delay an outcome asks for, without counting a retry', async () => {
    const times: number[] = [];
    let retries = 0;
    const q = new WorkQueue<number>(
      async () => {
        times.push(Date.now());
        return times.length;
      },
      {
        concurrency: 1,
        decide: (n) => (n === 1 ? { kind: 'after', ms: 40 } : { kind: 'forget' }),
        onThrow: FAST,
        onRetry: () => retries++,
      },
    );
    q.add('a');
    await sleep(150);
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 38, 'ran again after the asked delay');
    assert.equal(retries, 0);
  });

  it('addAfter twice for a key keeps the sooner of the two timers', async () => {
    const runs: number[] = [];
    const start = Date.now();
    const q = new WorkQueue<Result>(
      async () => {
        runs.push(Date.now() - start);
        return 'ok';
      },
      { concurrency: 1, decide, onThrow: FAST },
    );
    q.addAfter('a', 2_000); // e.g. a slow backoff already pending…
    q.addAfter('a', 20); // …and then something asks for it soon: the sooner one runs
    q.addAfter('a', 5_000); // a later ask does not push it back
    await sleep(120);
    assert.equal(runs.length, 1, `ran ${runs.length} times by 120 ms`);
    assert.ok(runs[0]! < 120, `ran after ${runs[0]} ms`);
    await q.shutdown();
  });

  it('work that throws is retried with the onThrow backoff (the queue never stops)', async () => {
    let runs = 0;
    const q = new WorkQueue<Result>(
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('bug');
        return 'ok';
      },
      { concurrency: 1, decide, onThrow: { baseMs: 10, maxMs: 10 } },
    );
    q.add('a');
    await sleep(80);
    assert.equal(runs, 2);
    assert.equal(q.failuresOf('a'), 0);
  });

  it('shutdown drops pending work and waits for the running one', async () => {
    let finished = false;
    const q = new WorkQueue<Result>(
      async (k) => {
        if (k === 'slow') {
          await sleep(30);
          finished = true;
        }
        return 'ok';
      },
      { concurrency: 1, decide, onThrow: FAST },
    );
    q.add('slow');
    q.add('never');
    await sleep(5);
    await q.shutdown();
    assert.equal(finished, true);
    q.add('after');
    assert.equal(q.depth, 0);
  });

  it('a retry runs before the keys already waiting (a resync backlog), not after them', async () => {
    const runs: string[] = [];
    let failedOnce = false;
    const q = new WorkQueue<Result>(
      async (k) => {
        runs.push(k);
        await sleep(2);
        if (k === 'flaky' && !failedOnce) {
          failedOnce = true;
          return 'fail';
        }
        return 'ok';
      },
      { concurrency: 1, decide, onThrow: FAST },
    );
    q.add('flaky');
    for (let i = 0; i < 40; i++) q.add(`backlog-${i}`);
    await q.onIdle();
    await sleep(50);
    await q.onIdle();
    const retry = runs.indexOf('flaky', 1);
    // Its backoff is 5 ms and each key takes ≥ 2 ms: it runs again a few keys in, not after all 40.
    assert.ok(retry > 0 && retry < 10, `the retry ran ${retry}th of ${runs.length}`);
  });

  it('an urgent add runs first, moves a key already queued up, and is kept for a key that is running', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue<Result>(
      async (k) => {
        runs.push(k);
        if (k === 'blocker' && runs.length === 1) await gate;
        return 'ok';
      },
      { concurrency: 1, decide, onThrow: FAST },
    );
    q.add('blocker');
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    q.add('c', true); // queued already: moves up
    q.add('e', true); // new: before a, b, d
    q.add('blocker', true); // running: re-run once after, urgent
    release();
    await q.onIdle();
    await sleep(5);
    await q.onIdle();
    assert.deepEqual(runs, ['blocker', 'c', 'e', 'blocker', 'a', 'b', 'd']);
  });
});
