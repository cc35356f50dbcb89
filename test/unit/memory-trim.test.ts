import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TRIM_POLICY, startMemoryTrim, trimDue, type TrimState } from '../../src/cli/memory-trim.js';
import type { Logger } from '../../src/observability/log.js';

const MiB = 1024 * 1024;

describe('memory trim: when to hand freed heap pages back', () => {
  const base: TrimState = { baselineRss: 200 * MiB, lastTrimAt: 0 };
  const now = 120_000;
  const cases: { name: string; state?: Partial<TrimState>; rss: number; busy: number; work?: string; due: boolean }[] = [
    { name: 'idle, grown 20 MiB (10 %) over the last trim', rss: 220 * MiB, busy: 0.02, due: true },
    { name: 'grown enough but the loop was busy (a resync, converging)', rss: 264 * MiB, busy: 0.5, due: false },
    { name: 'idle at exactly the busy bound', rss: 264 * MiB, busy: TRIM_POLICY.maxBusy, due: true },
    { name: 'idle but grown only 12 MiB', rss: 212 * MiB, busy: 0, due: false },
    { name: 'grown 16 MiB but only 4 % of a 400 MiB baseline', state: { baselineRss: 400 * MiB }, rss: 416 * MiB, busy: 0, due: false },
    { name: 'grown 20 % but only 14 MiB over a small baseline', state: { baselineRss: 70 * MiB }, rss: 84 * MiB, busy: 0, due: false },
    { name: 'the last trim was 30 s ago', state: { lastTrimAt: now - 30_000 }, rss: 300 * MiB, busy: 0, due: false },
    { name: 'never trimmed yet (start-up baseline)', state: { lastTrimAt: -Infinity }, rss: 300 * MiB, busy: 0, due: true },
    { name: 'RSS below the baseline', rss: 150 * MiB, busy: 0, due: false },
    // The controller's work now (controller.ts controllerWork): a trim would pause the loop under it.
    { name: 'due, and the controller idle', rss: 264 * MiB, busy: 0, work: undefined, due: true },
    { name: 'due by the loop, but Services are queued', rss: 264 * MiB, busy: 0, work: '3 Services queued or reconciling', due: false },
    { name: 'due by the loop, but a patch is in flight', rss: 264 * MiB, busy: 0.01, work: '1 health check patches in flight', due: false },
    { name: 'due by the loop, but GCP is being listed', rss: 264 * MiB, busy: 0, work: 'listing GCP', due: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(trimDue(TRIM_POLICY, { ...base, ...c.state }, now, c.rss, c.busy, c.work), c.due));
  }
});

describe('memory trim: the real collection', () => {
  it('returns the pages of a freed burst to the OS (RSS drops), which ordinary collections do not', async function () {
    this.timeout(30_000);
    // A burst: ~150 MB of small objects, live for a while (so they reach the old generation),
    // then dropped. Ordinary GCs collect them but V8 keeps the pages mapped: RSS stays up.
    const burst = (): number => {
      const kept: { k: string; v: number[] }[][] = [];
      for (let r = 0; r < 15; r++) kept.push(Array.from({ length: 100_000 }, (_, i) => ({ k: `key-${r}-${i}`, v: [i, r] })));
      return kept.length;
    };
    assert.equal(burst(), 15);
    await sleep(100);
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const record = (message: string, fields: Record<string, unknown>) => lines.push({ message, fields });
    const log = { info: record, warn: record } as unknown as Logger;
    // Baseline: the RSS at start-up of the trimmer, i.e. with the burst's pages still mapped.
    const stop = startMemoryTrim(log, () => undefined, {
      checkEveryMs: 50,
      maxBusy: 1,
      minGrowthBytes: -Infinity,
      minGrowthRatio: -Infinity,
      minIntervalMs: 0,
    });
    try {
      const deadline = Date.now() + 20_000;
      while (lines.length === 0 && Date.now() < deadline) await sleep(50);
      assert.equal(lines[0]?.message, 'returned unused heap memory to the OS', JSON.stringify(lines));
      const before = lines[0].fields['rss_before_mib'] as number;
      const after = lines[0].fields['rss_after_mib'] as number;
      assert.ok(before - after >= 40, `RSS ${before} → ${after} MiB: the trim freed under 40 MiB`);
    } finally {
      stop();
    }
  });
});

describe('memory trim: held while the controller has work', () => {
  it('a due trim waits (a debug line says what held it) and runs at the first check that finds the controller idle', async function () {
    this.timeout(30_000);
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const at = (level: string) => (message: string, fields: Record<string, unknown>) => void lines.push({ level, message, fields });
    const log = { debug: at('debug'), info: at('info'), warn: at('warn') } as unknown as Logger;
    let work: string | undefined = '2 Services queued or reconciling';
    let asked = 0;
    const stop = startMemoryTrim(log, () => (asked++, work), {
      checkEveryMs: 20,
      maxBusy: 1,
      minGrowthBytes: -Infinity,
      minGrowthRatio: -Infinity,
      minIntervalMs: 0,
    });
    try {
      const trimmed = () => lines.filter((l) => l.message === 'returned unused heap memory to the OS');
      const deadline = Date.now() + 20_000;
      while (asked < 5 && Date.now() < deadline) await sleep(20);
      assert.deepEqual(trimmed(), [], 'no trim while the controller has work');
      const held = lines.filter((l) => l.level === 'debug');
      assert.ok(held.length >= 4, JSON.stringify(lines));
      assert.equal(held[0]?.fields['work'], '2 Services queued or reconciling');
      work = undefined;
      while (trimmed().length === 0 && Date.now() < deadline) await sleep(20);
      assert.equal(trimmed().length >= 1, true, 'the held trim runs once the controller is idle');
    } finally {
      stop();
    }
  });
});
