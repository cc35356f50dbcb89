// The HTTP front of the stand-in: parses requests, counts them per API method, enforces the
// per-minute request quota, applies injected failures, and hands the rest to api.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handle } from './api.js';
import { ApiError, rateLimitExceeded } from './errors.js';
import { isObject } from './merge-patch.js';
import type { Operations } from './operations.js';
import { parseRoute, type Route } from './router.js';
import type { Json, JsonObject, Store } from './store.js';

export interface InjectedFailure {
  status: number;
  reason: string;
  message?: string;
  /** How many requests fail; default 1. Use Infinity for "until cleared". */
  times?: number;
  /** Fail the write's Operation (DONE with error) instead of the HTTP call. */
  operationLevel?: boolean;
  /**
   * Network reset mid-request: the request is served (a write is applied) and then the connection
   * is destroyed instead of answering, so the client cannot know what happened. status/reason unused.
   */
  reset?: boolean;
  /** The write's Operation never finishes (stays RUNNING; the effect is never applied). status/reason unused. */
  hang?: boolean;
}

/** One request as the stand-in saw it: who sent it (the listener it came in on), what, and the answer. */
export interface RequestRecord {
  readonly at: number;
  /** The name of the listener the request came in on: 'default', or the caller given to listenAs. */
  readonly caller: string;
  readonly method: string;
  /** API method name, e.g. 'healthChecks.patch'. */
  readonly api: string;
  /** The resource the URL names (a check's name for a patch), if any. */
  readonly resource: string | undefined;
  readonly body: JsonObject;
  /** HTTP status sent; 0 when the connection was reset instead. */
  readonly status: number;
  /** For a write: the name of the Operation answered (the same name again for a requestId replay). */
  readonly operation: string | undefined;
}

export class ComputeServer {
  private readonly server = http.createServer((req, res) => this.track(this.serve(req, res, 'default')));
  /** Extra listeners, one per caller, so the request log can tell processes apart without any header. */
  private readonly callerServers: http.Server[] = [];
  private readonly log_: RequestRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts = new Map<string, number>();
  private readonly failures = new Map<string, (InjectedFailure & { remaining: number })[]>();
  private readonly delays = new Map<string, { ms: number; remaining: number }[]>();
  private quota: number | undefined;
  private quotaWindow = -1;
  private quotaUsed = 0;
  private writeQuota: number | undefined;
  private writeQuotaWindow = -1;
  private writeQuotaUsed = 0;

  constructor(
    private readonly store: Store,
    private readonly operations: Operations,
    private readonly log: (line: string) => void,
  ) {}

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Another listener on its own port for one caller; its requests are logged with that caller's name. */
  async listenAs(caller: string): Promise<string> {
    const server = http.createServer((req, res) => this.track(this.serve(req, res, caller)));
    this.callerServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  requestLog(): readonly RequestRecord[] {
    return this.log_;
  }

  /** Lets requests in progress (e.g. a released operations.wait) answer, then drops keep-alive sockets. */
  async close(): Promise<void> {
    const servers = [this.server, ...this.callerServers];
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await Promise.all(this.inFlight);
    for (const s of servers) s.closeAllConnections();
    await closed;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetCounts(): void {
    this.counts.clear();
  }

  injectFailure(method: string, failure: InjectedFailure): void {
    const list = this.failures.get(method) ?? [];
    list.push({ ...failure, remaining: failure.times ?? 1 });
    this.failures.set(method, list);
  }

  clearFailures(): void {
    this.failures.clear();
    this.delays.clear();
  }

  /** The next `times` requests of `method` read the state when they arrive but answer `ms` later (a slow list). */
  injectDelay(method: string, ms: number, times = 1): void {
    const list = this.delays.get(method) ?? [];
    list.push({ ms, remaining: times });
    this.delays.set(method, list);
  }

  private takeDelay(method: string): number {
    const list = this.delays.get(method);
    const next = list?.[0];
    if (!list || !next) return 0;
    next.remaining -= 1;
    if (next.remaining <= 0) list.shift();
    return next.ms;
  }

  /** Also restarts the current window, so a test gets exactly `limit` requests from now on. */
  setQuotaPerMinute(limit: number | undefined): void {
    this.quota = limit;
    this.quotaUsed = 0;
    this.quotaWindow = currentMinute();
  }

  /**
   * Writes (insert, patch, update, delete, NEG attach/detach) per wall-clock second before 403
   * rateLimitExceeded; unlimited when undefined. Reads are not counted. Restarts the current window.
   */
  setWriteQuotaPerSecond(limit: number | undefined): void {
    this.writeQuota = limit;
    this.writeQuotaUsed = 0;
    this.writeQuotaWindow = Math.floor(Date.now() / 1000);
  }

  private overWriteQuota(route: Route): boolean {
    if (this.writeQuota === undefined || !isWrite(route)) return false;
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.writeQuotaWindow) {
      this.writeQuotaWindow = second;
      this.writeQuotaUsed = 0;
    }
    this.writeQuotaUsed += 1;
    return this.writeQuotaUsed > this.writeQuota;
  }

  private takeFailure(method: string): InjectedFailure | undefined {
    const list = this.failures.get(method);
    const next = list?.[0];
    if (!list || !next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) list.shift();
    return next;
  }

  /** GCE quotas are per project per minute and refill at the minute boundary. */
  private overQuota(): boolean {
    if (this.quota === undefined) return false;
    const minute = currentMinute();
    if (minute !== this.quotaWindow) {
      this.quotaWindow = minute;
      this.quotaUsed = 0;
    }
    this.quotaUsed += 1;
    return this.quotaUsed > this.quota;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, caller: string): Promise<void> {
    const at = Date.now();
    const method = req.method ?? 'GET';
    const route = parseRoute(method, req.url ?? '/');
    const api = route?.api ?? 'unknown';
    this.counts.set(api, (this.counts.get(api) ?? 0) + 1);
    let status: number;
    let body: JsonObject;
    let raw: JsonObject = {};
    let reset = false;
    try {
      raw = await readBody(req);
      if (!route) throw new ApiError(404, 'notFound', `The stand-in does not serve ${method} ${req.url ?? ''}`);
      if (this.overQuota()) throw rateLimitExceeded(this.store.project, this.quota ?? 0);
      if (this.overWriteQuota(route)) throw rateLimitExceeded(this.store.project, this.writeQuota ?? 0, 'second');
      const injected = this.takeFailure(api);
      reset = injected?.reset === true;
      if (injected && !injected.operationLevel && !injected.reset && !injected.hang) {
        // An injected quota error has the real one's shape (ErrorInfo detail), so clients classify it as GCE's.
        if (injected.status === 403 && injected.reason === 'rateLimitExceeded') throw rateLimitExceeded(this.store.project, 0);
        throw new ApiError(injected.status, injected.reason, injected.message ?? `Injected failure: ${injected.reason}`);
      }
      const failure =
        injected && injected.operationLevel && !injected.hang
          ? { status: injected.status, reason: injected.reason, ...(injected.message ? { message: injected.message } : {}) }
          : undefined;
      const ctx = { store: this.store, operations: this.operations, operationFailure: failure, operationHang: injected?.hang === true };
      const delayMs = this.takeDelay(api);
      const result = handle(ctx, route, raw);
      status = result.status;
      body = result.deferred ? await result.deferred : result.body;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(500, 'internalError', `Internal error: ${String(err)}`);
      status = apiErr.status;
      body = apiErr.toBody() as unknown as JsonObject;
    }
    const operation = body['kind'] === 'compute#operation' && typeof body['name'] === 'string' ? body['name'] : undefined;
    this.log_.push({ at, caller, method, api, resource: route?.name, body: raw, status: reset ? 0 : status, operation });
    if (reset) {
      // The write has been applied (or its Operation started); the client only sees the connection drop.
      this.log(`compute: ${method} ${req.url ?? ''} -> connection reset (injected) ${api}`);
      req.socket.destroy();
      return;
    }
    this.log(`compute: ${method} ${req.url ?? ''} -> ${status} ${api}`);
    const text = JSON.stringify(body);
    if (!res.destroyed) {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
    }
  }
}

const WRITE_ACTIONS = new Set(['insert', 'patch', 'update', 'delete']);
const WRITE_VERBS = new Set(['attachNetworkEndpoints', 'detachNetworkEndpoints']);

/** A request that changes state through an Operation (operations.wait and getHealth are reads). */
function isWrite(route: Route): boolean {
  return route.collection !== 'operations' && (WRITE_ACTIONS.has(route.action) || WRITE_VERBS.has(route.verb ?? ''));
}

function currentMinute(): number {
  return Math.floor(Date.now() / 60_000);
}

async function readBody(req: http.IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    throw new ApiError(400, 'parseError', 'Parse Error');
  }
  // The client sends the JSON string "" as the body of body-less POSTs such as operations.wait.
  return isObject(parsed) ? parsed : {};
}
