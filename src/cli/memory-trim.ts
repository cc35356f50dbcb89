// Hands memory the V8 heap no longer uses back to the OS once hcsync goes quiet after a burst
// (start-up lists, converging, a resync). V8's ordinary garbage collections shrink the heap's
// committed size (nodejs_heap_size_total_bytes) but keep the freed pages mapped for reuse, so RSS
// stays at the burst's high-water mark: measured at 5,000 Services (README, Benchmarks), the heap
// was 138 MiB committed while the process still held 347 MiB RSS, 140 MiB of it freed heap pages.
// Only a memory-reducing collection (V8's LowMemoryNotification; `HeapProfiler.collectGarbage`
// through the in-process inspector session, no flag or open port needed) releases them. That costs
// a few full collections and blocks the event loop (0.3–0.6 s on a quiet machine, 1.1–1.5 s at load
// average 7–11), so it runs only when RSS has grown above what the previous trim left, at most once
// a minute, and only when hcsync is quiet by two measures:
// - the event loop was at most TRIM_POLICY.maxBusy busy over the last check (the past 10 s), and
// - the controller has nothing to do right now (controller.ts controllerWork: no Service queued or
//   being reconciled, no patch in flight or waiting for a slot, no GCP list under way). The loop's
//   past use alone let a trim fall into a burst of events, or among patches awaiting their
//   Operations (mostly I/O waits, so a loop under 35 % busy): event → PATCH p99 went to 1.7 s.
// A trim that is due but held by work runs at the first later check that finds the controller idle
// (and still finds it due): a debug line says what held it.
import { Session } from 'node:inspector/promises';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Logger } from '../observability/log.js';

export interface TrimPolicy {
  /** How often RSS and event-loop use are looked at. */
  checkEveryMs: number;
  /** The event loop's utilisation over the last check must be at most this (0–1): a trim never competes with work. */
  maxBusy: number;
  /** RSS must have grown by at least this many bytes since the last trim (or start)... */
  minGrowthBytes: number;
  /** ...and by at least this fraction of what the last trim left. */
  minGrowthRatio: number;
  /** Trims are at least this far apart. */
  minIntervalMs: number;
}

/**
 * Every 10 s; quiet enough means under 35 % event-loop use over the last 10 s (a trim pauses
 * the loop 0.3-0.6 s, at most once a minute). With a 10 % bound no trim ran while converging or in the
 * backlog of re-read GETs and condition writes after it; with 35 %, bench:scale at 5,000 Services
 * (2026-11-30, back to back): peak 284 -> 276 MiB, RSS 211-244 MiB while converging, convergence
 * 1.03x either way; grown means 16 MiB and 5 % over the last trim
 * (at 5,000 Services a trim leaves ~236 MiB and the heap's churn regrows ~20 MiB of pages within a
 * minute); at most one trim a minute.
 */
export const TRIM_POLICY: TrimPolicy = {
  checkEveryMs: 10_000,
  maxBusy: 0.35,
  minGrowthBytes: 16 * 1024 * 1024,
  minGrowthRatio: 0.05,
  minIntervalMs: 60_000,
};

export interface TrimState {
  /** RSS right after the last trim, or at start. */
  baselineRss: number;
  /** When the last trim ran (ms, the clock `now` uses); -Infinity before the first. */
  lastTrimAt: number;
}

/**
 * What the controller is doing right now, in words (controller.ts controllerWork); undefined when
 * it has nothing to do. Before a controller exists (start-up), nothing.
 */
export type WorkNow = () => string | undefined;

/**
 * Whether to run a memory-reducing collection now: the controller has no work now (`work` is
 * undefined; else what it is doing), the loop was at most `maxBusy` busy over the last check (`busy`
 * is its utilisation, 0–1), the last trim is at least `minIntervalMs` ago, and RSS grew by both
 * `minGrowthBytes` and `minGrowthRatio` over the baseline. Each trim sets the baseline to the RSS
 * it left, so one that frees little (live data grew) is not repeated every minute.
 */
export function trimDue(policy: TrimPolicy, state: TrimState, now: number, rss: number, busy: number, work: string | undefined): boolean {
  if (work !== undefined) return false;
  if (busy > policy.maxBusy) return false;
  if (now - state.lastTrimAt < policy.minIntervalMs) return false;
  const growth = rss - state.baselineRss;
  return growth >= policy.minGrowthBytes && growth >= state.baselineRss * policy.minGrowthRatio;
}

const MiB = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/**
 * Starts the periodic check (an unref'd timer: it never keeps the process alive); returns its stop.
 * `workNow` is asked at each check: a trim waits while the controller has work.
 */
export function startMemoryTrim(log: Logger, workNow: WorkNow, policy: TrimPolicy = TRIM_POLICY): () => void {
  const state: TrimState = { baselineRss: process.memoryUsage.rss(), lastTrimAt: -Infinity };
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let running = false;
  let stopped = false;
  const check = async () => {
    const next = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(next, elu).utilization;
    elu = next;
    const rss = process.memoryUsage.rss();
    if (running) return;
    const now = Date.now();
    const work = workNow();
    if (!trimDue(policy, state, now, rss, busy, work)) {
      if (work !== undefined && trimDue(policy, state, now, rss, busy, undefined)) {
        log.debug('memory trim due but held while the controller has work; tried again at the next check', {
          work,
          rss_mib: MiB(rss),
          baseline_rss_mib: MiB(state.baselineRss),
        });
      }
      return;
    }
    running = true;
    const started = performance.now();
    const cpu = process.cpuUsage();
    try {
      await collectAllGarbage();
      const after = process.memoryUsage.rss();
      const used = process.cpuUsage(cpu);
      state.baselineRss = after;
      state.lastTrimAt = Date.now();
      log.info('returned unused heap memory to the OS', {
        rss_before_mib: MiB(rss),
        rss_after_mib: MiB(after),
        took_ms: Math.round(performance.now() - started),
        cpu_ms: Math.round((used.user + used.system) / 1000),
      });
    } catch (err) {
      // No inspector in this Node build (or a session refused): RSS stays at its high-water mark,
      // as without this module; say so once and stop trying.
      log.warn('cannot trim memory; RSS will stay at its high-water mark', { error: (err as Error).message });
      stopped = true;
      clearInterval(timer);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => {
    if (!stopped) void check();
  }, policy.checkEveryMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** V8's LowMemoryNotification: full collections until nothing more is freed, then the freed pages are unmapped. */
async function collectAllGarbage(): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.collectGarbage');
  } finally {
    session.disconnect();
  }
}
