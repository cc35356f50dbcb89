// /metrics, /healthz and /readyz. /healthz answers while the process runs its loop; /readyz once
// the informer caches have synced and GCP has been read (the kubelet then sends no traffic
// before hcsync can act, and a rollout waits for it).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { parseAddr } from '../config/flags.js';
import type { MetricsAuth } from './metrics-auth.js';

export interface Probes {
  ready(): { ok: boolean; why?: string };
}

export type Route = (req: IncomingMessage) => Promise<{ status: number; type: string; body: string; headers?: Record<string, string> }>;

export async function listen(flag: string, addr: string, routes: Record<string, Route>): Promise<Server> {
  const { host, port } = parseAddr(flag, addr);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (!route || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    route(req).then(
      (r) => res.writeHead(r.status, { ...r.headers, 'content-type': r.type }).end(r.body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** /metrics; with auth (--metrics-auth), only for a bearer token allowed to get /metrics. */
export function metricsRoutes(registry: Registry, auth?: MetricsAuth): Record<string, Route> {
  return {
    '/metrics': async (req) => {
      if (auth) {
        const decision = await auth.check(req.headers);
        if (decision.status !== 200) {
          return {
            status: decision.status,
            type: 'text/plain',
            body: `${decision.message}\n`,
            ...(decision.status === 401 ? { headers: { 'www-authenticate': 'Bearer realm="hcsync"' } } : {}),
          };
        }
      }
      return { status: 200, type: registry.contentType, body: await registry.metrics() };
    },
  };
}

export function probeRoutes(probes: Probes): Record<string, Route> {
  return {
    '/healthz': () => Promise.resolve({ status: 200, type: 'text/plain', body: 'ok\n' }),
    '/readyz': () => {
      const r = probes.ready();
      return Promise.resolve(
        r.ok ? { status: 200, type: 'text/plain', body: 'ok\n' } : { status: 503, type: 'text/plain', body: `not ready: ${r.why ?? ''}\n` },
      );
    },
  };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
