// The pace of GCP writes (issue 11): --gcp-write-qps must hold over a run even when the event
// loop comes late (GC pauses, a starved CPU), without a minute ever holding more than 60 × qps
// writes (GCP counts the quota per minute, docs/gke-ingress-healthchecks.md §7).
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { WritePace } from '../../src/controller/write-pace.js';
import { RateLimitedPatcher } from '../../src/controller/write-limiter.js';
import type { HealthCheckPatcher } from '../../src/model/ports.js';

/** Takes every slot due at `now`; returns how many. */
function drain(pace: WritePace, now: number): number {
  let n = 0;
  while (pace.delay(now) === 0 && n < 10_000) {
    pace.take(now);
    n++;
  }
  return n;
}

describe('WritePace', () => {
  const cases: { name: string; qps: number; run: (p: WritePace) => unknown; want: unknown }[] = [
    {
      name: 'spacing, catch-up and minute quota from qps',
      qps: 25,
      run: (p) => [p.spacingMs, p.catchUpSlots, p.perMinute],
      want: [40, 24, 1500],
    },
    { name: 'below 1 qps: one write per slot', qps: 0.5, run: (p) => [p.spacingMs, p.catchUpSlots, p.perMinute], want: [2000, 0, 30] },
    {
      name: 'an idle limiter sends up to floor(qps) at once (as p-queue did), then one a slot',
      qps: 25,
      run: (p) => [drain(p, 0), p.delay(0), p.delay(30)],
      want: [25, 40, 10],
    },
    {
      name: 'slots the loop reached late are caught up at once (the loop came at 300 ms instead of 40)',
      qps: 25,
      run: (p) => [drain(p, 0), drain(p, 300), p.delay(300)],
      want: [25, 7, 20],
    },
    {
      name: 'catch-up is bounded: never more than floor(qps) at once',
      qps: 25,
      run: (p) => [drain(p, 0), drain(p, 5000), p.delay(5000)],
      want: [25, 25, 40],
    },
    {
      name: 'at 1 qps one write at a time, and a late slot is not caught up',
      qps: 1,
      run: (p) => [drain(p, 0), p.delay(0), drain(p, 1500), p.delay(1500)],
      want: [1, 1000, 1, 1000],
    },
    {
      name: 'no more than 60 × qps writes in any 60 s: the first burst counts until it leaves the window',
      qps: 2,
      run: (p) => {
        // 2 at 0 (the burst), then one each 500 ms: at 59.5 s the grid has a slot, but the 60 s
        // from 0 already hold 120 writes; it goes at 60 s, when the burst leaves the window.
        const a = drain(p, 0);
        let c = 0;
        for (let t = 500; t <= 59_000; t += 500) c += drain(p, t);
        return [a, c, p.delay(59_500)];
      },
      want: [2, 118, 500],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.run(new WritePace(c.qps)), c.want));

  it('rejects a pace of 0 or less', () => {
    assert.throws(() => new WritePace(0), /more than 0/);
  });
});

describe('RateLimitedPatcher pace under a late event loop', () => {
  afterEach(() => mock.timers.reset());

  it('sends --gcp-write-qps over a minute although the loop stalls 300 ms of every 750 ms, and never more than 60 × qps in 60 s', async () => {
    // Mocked setTimeout and Date: a stall is the clock moving on while no timer fires (what a GC
    // pause or a starved CPU does). Before this pace (p-queue's strict sliding window, its 25
    // writes leaving together each second) every stall pushed every later write back: ~22/s.
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const sentAt: number[] = [];
    const inner: HealthCheckPatcher = { patchHealthCheck: () => (sentAt.push(Date.now()), Promise.resolve()) };
    const qps = 25;
    const limiter = new RateLimitedPatcher(inner, qps, { now: () => Date.now() });
    // More writes waiting than 90 s can send: the limiter is never starved.
    const all = Array.from({ length: 3000 }, (_, i) =>
      limiter.patchHealthCheck({ name: `hc-${i}`, scope: { kind: 'global' }, type: 'HTTP' }, {}, `r${i}`).catch(() => undefined),
    );
    const flush = async () => {
      for (let k = 0; k < 5; k++) await Promise.resolve();
    };
    await flush();
    // 90 s, so that every 60 s window starting in the first 30 s is checked whole.
    while (Date.now() < 90_000) {
      // 450 ms of a responsive loop in 5 ms steps, then a 300 ms stall.
      for (let k = 0; k < 90; k++) {
        mock.timers.tick(5);
        await flush();
      }
      mock.timers.setTime(Date.now() + 300);
      mock.timers.tick(0);
      await flush();
    }
    const inFirstMinute = sentAt.filter((t) => t < 60_000).length;
    // The grid allows 1,500 (one each 40 ms); a write stalled at the very end may still be waiting.
    assert.ok(inFirstMinute >= 1490, `sent ${inFirstMinute} in the first 60 s; want ≥ 1490 (25/s)`);
    for (const from of sentAt) {
      const inMinute = sentAt.filter((t) => t >= from && t < from + 60_000).length;
      assert.ok(inMinute <= 60 * qps, `${inMinute} writes in the 60 s from ${from} ms`);
      const inSecond = sentAt.filter((t) => t >= from && t < from + 1000).length;
      assert.ok(inSecond <= 2 * qps, `${inSecond} writes in the second from ${from} ms (catch-up is at most one second of slots)`);
    }
    limiter.dropQueued('test over');
    await Promise.all(all);
  });
});
