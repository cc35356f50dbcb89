// A small stand-in for the external HTTP(S) load balancer: one listener per URL map, routing by
// Host and path to a backend service and proxying to one HEALTHY endpoint, round robin. With no
// healthy endpoint it answers 502 with the Google Front End error page users actually see.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isObject } from './merge-patch.js';
import { getResource, resolveLink, type JsonObject, type Store } from './store.js';
import { backendTarget, healthKey } from './topology.js';

export const GFE_502_BODY = `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 502 (Server Error)!!1</title>
  <p><b>502.</b> <ins>That’s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>
`;

interface Listener {
  server: http.Server;
  address: string;
}

export class LoadBalancers {
  private readonly listeners = new Map<string, Listener>();
  private readonly opening = new Map<string, Promise<void>>();
  private readonly roundRobin = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
  ) {}

  address(urlMapName: string): string | undefined {
    return this.listeners.get(urlMapName)?.address;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.opening.values());
    const closing = [...this.listeners.values()].map((l) => close(l.server));
    this.listeners.clear();
    await Promise.all(closing);
  }

  /**
   * Follows the URL maps in the store: opens a listener per map, closes it when the map goes.
   * Called before a write operation reports DONE, so a test that waited for its urlMaps.insert
   * can ask for the address straight away.
   */
  async sync(): Promise<void> {
    if (this.stopped) return;
    const maps = this.store.resources.get('global/urlMaps') ?? new Map<string, JsonObject>();
    for (const name of maps.keys()) {
      if (!this.listeners.has(name) && !this.opening.has(name)) this.opening.set(name, this.open(name));
    }
    const closing: Promise<void>[] = [];
    for (const [name, l] of this.listeners) {
      if (!maps.has(name)) {
        this.listeners.delete(name);
        closing.push(close(l.server));
      }
    }
    await Promise.all([...this.opening.values(), ...closing]);
  }

  private async open(name: string): Promise<void> {
    const server = http.createServer((req, res) => this.route(name, req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.opening.delete(name);
    const { port } = server.address() as AddressInfo;
    this.listeners.set(name, { server, address: `127.0.0.1:${port}` });
    this.log(`compute: load balancer for url map ${name} on 127.0.0.1:${port}`);
  }

  private route(urlMapName: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const urlMap = getResource(this.store, 'global', 'urlMaps', urlMapName);
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const path = new URL(req.url ?? '/', 'http://lb').pathname;
    const serviceLink = urlMap ? pickService(urlMap, host, path) : undefined;
    const bs = serviceLink ? resolveLink(this.store, serviceLink)?.resource : undefined;
    if (!bs) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no backend service for ${host}${path}\n`);
      return;
    }
    const target = backendTarget(this.store, bs);
    const healthy = target.endpoints.filter((ep) => this.store.health.get(healthKey(target.backendServiceLink, ep))?.state === 'HEALTHY');
    if (healthy.length === 0) {
      res
        .writeHead(502, { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': Buffer.byteLength(GFE_502_BODY) })
        .end(GFE_502_BODY);
      return;
    }
    const n = this.roundRobin.get(target.backendServiceLink) ?? 0;
    this.roundRobin.set(target.backendServiceLink, n + 1);
    const ep = healthy[n % healthy.length] as (typeof healthy)[number];
    const upstream = http.request(
      {
        host: ep.ipAddress,
        port: ep.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, via: '1.1 google', 'x-forwarded-for': req.socket.remoteAddress ?? '' },
        agent: false,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      // Mid-response failures cut the connection, as a proxy must; before that, the GFE page.
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'Content-Type': 'text/html; charset=UTF-8' }).end(GFE_502_BODY);
    });
    req.pipe(upstream);
  }
}

/** URL map semantics: host rule (exact or '*.' suffix, '*' any) → path matcher → longest path rule. */
export function pickService(urlMap: JsonObject, host: string, path: string): string | undefined {
  const hostRules = Array.isArray(urlMap['hostRules']) ? urlMap['hostRules'].filter(isObject) : [];
  const matchers = Array.isArray(urlMap['pathMatchers']) ? urlMap['pathMatchers'].filter(isObject) : [];
  const rule = hostRules.find(
    (r) => Array.isArray(r['hosts']) && r['hosts'].some((h) => typeof h === 'string' && hostMatches(h.toLowerCase(), host)),
  );
  const matcher = rule ? matchers.find((m) => m['name'] === rule['pathMatcher']) : undefined;
  if (!matcher) return typeof urlMap['defaultService'] === 'string' ? urlMap['defaultService'] : undefined;
  let best: { len: number; service: string } | undefined;
  for (const pr of Array.isArray(matcher['pathRules']) ? matcher['pathRules'].filter(isObject) : []) {
    for (const p of Array.isArray(pr['paths']) ? pr['paths'] : []) {
      if (typeof p !== 'string' || typeof pr['service'] !== 'string') continue;
      const hit = p.endsWith('/*') ? path === p.slice(0, -2) || path.startsWith(p.slice(0, -1)) : path === p;
      if (hit && (!best || p.length > best.len)) best = { len: p.length, service: pr['service'] };
    }
  }
  if (best) return best.service;
  return typeof matcher['defaultService'] === 'string' ? matcher['defaultService'] : undefined;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
