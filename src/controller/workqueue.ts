// A controller work queue on p-queue, with client-go's semantics that p-queue lacks: at most
// one pending entry per key (an add while processing marks it dirty and re-runs it once after),
// per-key exponential backoff on failure, delayed adds, and a clean drain on shutdown.
import PQueue from 'p-queue';

export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly onDepth?: (depth: number) => void;
  readonly onRetry?: () => void;
}

export type WorkResult = { readonly kind: 'done' } | { readonly kind: 'requeueAfter'; readonly ms: number } | { readonly kind: 'error' };

export class WorkQueue {
  private readonly queue: PQueue;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private shuttingDown = false;

  constructor(
    private readonly work: (key: string) => Promise<WorkResult>,
    private readonly opts: WorkQueueOptions,
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
  }

  /** Keys waiting to run (not those running or waiting on a timer). */
  get depth(): number {
    return this.queued.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.report();
    void this.queue.add(() => this.run(key));
  }

  /** Adds after a delay; an earlier pending delay for the key wins (it runs sooner). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown || this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  /** client-go's per-item exponential backoff: base × 2^failures, capped. */
  backoffFor(key: string): number {
    const n = this.failures.get(key) ?? 0;
    return Math.min(this.opts.baseBackoffMs * 2 ** n, this.opts.maxBackoffMs);
  }

  private async run(key: string): Promise<void> {
    this.queued.delete(key);
    this.processing.add(key);
    this.report();
    let result: WorkResult;
    try {
      result = await this.work(key);
    } catch {
      result = { kind: 'error' };
    }
    this.processing.delete(key);
    if (result.kind === 'error') {
      const delay = this.backoffFor(key);
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
      this.opts.onRetry?.();
      this.addAfter(key, delay);
    } else {
      this.failures.delete(key);
      if (result.kind === 'requeueAfter') this.addAfter(key, result.ms);
    }
    if (this.dirty.delete(key)) this.add(key);
    this.report();
  }

  private report(): void {
    this.opts.onDepth?.(this.queued.size);
  }

  /** Stops taking work, drops pending timers and waits for running work (in-flight patches) to end. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
    this.queued.clear();
    this.dirty.clear();
    await this.queue.onIdle();
    this.report();
  }

  /** Resolves when nothing is queued or running (tests, one-shot runs). */
  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }
}
