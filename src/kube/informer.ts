// A client-node ListWatch whose cache holds slim objects: list pages are slimmed before the
// cache sees them and watch events are slimmed by a Watch subclass, so no full object is kept.
// ListWatch stops for good on any error other than 410; this restarts it with backoff.
import { type KubeConfig, ListWatch, Watch } from '@kubernetes/client-node';
import { Backoff } from '../lib/backoff.js';
import type { Logger } from '../observability/log.js';

interface HasMeta {
  metadata: { namespace: string; name: string; resourceVersion: string };
}

export interface ListPage {
  items: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string };
}

/** Lists one page; `continueToken` is undefined for the first page. */
export type PageLister = (continueToken: string | undefined) => Promise<ListPage>;

export type Handler<T> = (obj: T) => void;

class SlimmingWatch<T> extends Watch {
  constructor(
    config: KubeConfig,
    private readonly slim: (raw: unknown) => T,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, apiObj, watchObj) => callback(phase, phase === 'ERROR' || phase === 'BOOKMARK' ? apiObj : this.slim(apiObj), watchObj),
      done,
    );
  }
}

const PAGE_LIMIT = 500;
/** A failed watch restarts after 1 s, 2 s, 4 s … at most 30 s; a successful list starts over. */
const RESTART_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const;

export class SlimInformer<T extends HasMeta> {
  private readonly lw: ListWatch<T & { metadata: { namespace: string; name: string } }>;
  private readonly restartBackoff = new Backoff(RESTART_BACKOFF);
  private stopped = false;
  private synced = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    readonly description: string,
    path: string,
    listPage: PageLister,
    slim: (raw: unknown) => T,
    private readonly log: Logger,
  ) {
    const listFn = async () => {
      const items: T[] = [];
      let token: string | undefined;
      let resourceVersion: string | undefined;
      do {
        const page = await listPage(token);
        for (const raw of page.items) items.push(slim(raw));
        resourceVersion = page.metadata?.resourceVersion;
        token = page.metadata?._continue || undefined;
      } while (token);
      this.synced = true;
      this.restartBackoff.reset();
      return { items, metadata: { resourceVersion } };
    };
    // ListWatch's listFn type expects a KubernetesListObject of T; ours is exactly that shape.
    this.lw = new ListWatch(path, new SlimmingWatch(kc, slim), listFn, false);
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  static pageSize = PAGE_LIMIT;

  on(verb: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    this.lw.on(verb, handler);
  }

  /** Resolves once the first list has filled the cache, or failed (then `hasSynced` stays false and it retries). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.lw.start();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.lw.stop();
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    const code = (err as { code?: unknown } | undefined)?.code ?? (err as { statusCode?: unknown } | undefined)?.statusCode;
    // A missing CRD (404) is normal on clusters without BackendConfig: keep retrying quietly.
    const level = code === 404 ? 'debug' : 'warn';
    const delay = this.restartBackoff.next();
    this.log.log(level, 'watch failed; restarting', {
      informer: this.description,
      code,
      error: (err as Error | undefined)?.message,
      retry_in_ms: delay,
    });
    if (code === 404) this.synced = true;
    this.restartTimer = setTimeout(() => {
      this.lw.start().catch((e: unknown) => this.onError(e));
    }, delay);
    this.restartTimer.unref();
  }
}
