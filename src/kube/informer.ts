// A client-node ListWatch whose cache holds slim objects: list pages are slimmed before the
// cache sees them and watch events are slimmed by a Watch subclass, so no full object is kept.
// ListWatch stops for good on any error other than 410 (and a client-side timeout) — a 401/403,
// a 5xx, a connection reset, a failed list — so this restarts it with backoff, forever.
// "Synced" means one list succeeded; a failed list (403, 429, 5xx) leaves it unsynced, with the
// reason kept for /readyz. Only an informer whose resource may be absent (a CRD) counts a 404 on
// its list as synced-empty, and it keeps retrying so a CRD installed later is picked up.
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, type KubeConfig, ListWatch, RequestContext, Watch } from './client-node.js';
import { Backoff } from '../lib/backoff.js';
import type { Logger } from '../observability/log.js';
import { describeKubeError } from './errors.js';

interface HasMeta {
  metadata: { namespace: string; name: string; resourceVersion: string };
}

interface ListPage {
  items: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string };
}

/** Lists one page; `continueToken` is undefined for the first page. */
export type PageLister = (continueToken: string | undefined) => Promise<ListPage>;

/**
 * An informer event handler: the object, and the cached version it replaces (`previous`, as
 * client-go's UpdateFunc(old, new)): for an update the version cached before it, for a delete the
 * one cached (the deleted object itself when a re-list found it gone), undefined for an add. The
 * indexes derive what to undo from it instead of keeping a second copy of every object (issue 11).
 */
export type Handler<T> = (obj: T, previous: T | undefined) => void;

/**
 * Lists `path` one page (`limit` objects) at a time as plain JSON: the page's text is parsed and
 * handed on, not deserialised into client-node's model classes (ObjectSerializer copies every
 * object into a V1Pod/V1Service/… with Dates) — the informer slims each page as it arrives anyway,
 * so the copy was only garbage, ~a page's worth each time. A non-200 answer throws client-node's
 * ApiException (code, body), as its generated clients do.
 */
export function rawPageLister(kc: KubeConfig, path: string, limit = PAGE_LIMIT): PageLister {
  const http = new IsomorphicFetchHttpLibrary();
  return async (continueToken) => {
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('No currently active cluster');
    const url = new URL(server + path);
    url.searchParams.set('limit', String(limit));
    if (continueToken) url.searchParams.set('continue', continueToken);
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    await kc.applySecurityAuthentication(ctx);
    const res = await http.send(ctx).toPromise();
    const text = await res.body.text();
    if (res.httpStatusCode !== 200) {
      throw new ApiException(res.httpStatusCode, `HTTP ${res.httpStatusCode} listing ${path}`, text, res.headers);
    }
    const body = JSON.parse(text) as { items?: unknown[]; metadata?: { resourceVersion?: string; continue?: string } };
    const { resourceVersion, continue: next } = body.metadata ?? {};
    return {
      items: body.items ?? [],
      metadata: { ...(resourceVersion ? { resourceVersion } : {}), ...(next ? { _continue: next } : {}) },
    };
  };
}

class SlimmingWatch<T> extends Watch {
  constructor(
    config: KubeConfig,
    private readonly slim: (raw: unknown) => T,
    /** Runs ListWatch's handling of one slimmed event (synchronous: cache update, then handlers). */
    private readonly around: (obj: T, handle: () => void) => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // Watch.watch rejects (instead of calling done) when it cannot even build the request, e.g.
    // credentials that fail to load. ListWatch awaits it inside its own done handler, where a
    // rejection goes nowhere: the informer would stop for good and Node would see an unhandled
    // rejection. Report it through done like any other watch failure, so it is restarted.
    return this.watchOrFail(path, queryParams, callback, done).catch((err: unknown) => {
      done(err);
      return new AbortController();
    });
  }

  private watchOrFail(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, apiObj, watchObj) => {
        if (phase === 'ERROR' || phase === 'BOOKMARK') {
          callback(phase, apiObj, watchObj);
          return;
        }
        const obj = this.slim(apiObj);
        this.around(obj, () => callback(phase, obj, watchObj));
      },
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
  /** Why the informer is not synced: the last list or watch failure (cleared by a successful list). */
  private lastFailure: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The cached version of the object whose watch event ListWatch is handling (Handler's `previous`). */
  private previous: T | undefined;
  /** During the handling of a list: each listed object → the version cached before it. */
  private listedPrevious: WeakMap<object, T> | undefined;

  constructor(
    kc: KubeConfig,
    readonly description: string,
    path: string,
    listPage: PageLister,
    slim: (raw: unknown) => T,
    private readonly log: Logger,
    /** A 404 on the list means "no such resource here" (a CRD not installed): synced, empty. */
    private readonly missingMeansEmpty = false,
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
      // ListWatch replaces its cache with these right after this returns (deleteItems, then
      // addOrUpdateItems, with no await between): remember what each replaces, until then.
      const previous = new WeakMap<object, T>();
      for (const item of items) {
        const cached = this.lw.get(item.metadata.name, item.metadata.namespace);
        if (cached) previous.set(item, cached);
      }
      this.listedPrevious = previous;
      setImmediate(() => {
        if (this.listedPrevious === previous) this.listedPrevious = undefined;
      });
      this.synced = true;
      this.lastFailure = undefined;
      this.restartBackoff.reset();
      return { items, metadata: { resourceVersion } };
    };
    // ListWatch's listFn type expects a KubernetesListObject of T; ours is exactly that shape.
    this.lw = new ListWatch(path, new SlimmingWatch(kc, slim, (obj, handle) => this.handlingWatchEvent(obj, handle)), listFn, false);
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  /**
   * Runs ListWatch's handling of a watch event for `obj` (synchronous: its cache, then the
   * handlers) with the version cached until then as the handlers' `previous`. (Tests and
   * bench:steady feed events through it and ListWatch.watchHandler, as the watch does.)
   */
  private handlingWatchEvent(obj: T, handle: () => void): void {
    this.previous = this.lw.get(obj.metadata.name, obj.metadata.namespace);
    try {
      handle();
    } finally {
      this.previous = undefined;
    }
  }

  on(verb: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    // A re-list's delete hands ListWatch's cached object itself: it is its own previous version.
    this.lw.on(verb, (obj) => handler(obj, this.listedPrevious?.get(obj) ?? this.previous ?? (verb === 'delete' ? obj : undefined)));
  }

  /** Resolves once the first list has filled the cache, or failed (then `hasSynced` stays false and it retries). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.lw.start();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** For /readyz and logs: undefined once synced, else why not (never listed yet, or the last failure). */
  notSyncedBecause(): string | undefined {
    if (this.synced) return undefined;
    return this.lastFailure ?? 'first list not finished';
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
    this.log.log(level, this.synced ? 'watch failed; restarting' : 'list failed; cache not synced, retrying', {
      informer: this.description,
      code,
      error: describeFailure(err, code),
      retry_in_ms: delay,
    });
    if (code === 404 && this.missingMeansEmpty) this.synced = true;
    else this.lastFailure = describeFailure(err, code);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.lw.start().catch((e: unknown) => this.onError(e));
    }, delay);
    this.restartTimer.unref();
  }
}

/** A short account of a list/watch failure: the API server's code and message, not the whole response. */
function describeFailure(err: unknown, code: unknown): string {
  const text = describeKubeError(err).slice(0, 300);
  return typeof code === 'number' && !text.includes(String(code)) ? `HTTP ${code}: ${text}` : text;
}
