// A fault-injecting HTTPS proxy in front of the test bed's kube-apiserver, on loopback. It serves
// with the API server's own certificate (so a client's kubeconfig only changes its port) and
// forwards everything, streams included. A test can make chosen requests fail (an HTTP status, or
// a watch that ends with a 410 Expired event) and can "cut" the link: every open connection is
// destroyed and new ones are refused until restore(), as a network partition between one replica
// and the API server while the rest of the world (GCP) stays reachable.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a fault rule sees of a request. */
export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly watch: boolean;
}

export interface KubeFault {
  readonly match: (r: KubeRequest) => boolean;
  /**
   * HTTP status to answer with (a Kubernetes Status body), or 'watch-410': answer 200 and end the
   * watch stream with an ERROR event carrying 410 Expired, as the API server does for a
   * resourceVersion that etcd has compacted away.
   */
  readonly answer: number | 'watch-410';
  /** How many matching requests fail; default unlimited (until untilMs or clearFaults()). */
  readonly times?: number;
  /** Epoch ms after which the rule no longer applies. */
  readonly untilMs?: number;
}

export interface ProxiedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly watch: boolean;
  /** The status sent to the client; 'cut' when the connection was dropped. */
  readonly status: number | 'cut';
  readonly injected: boolean;
}

const REASONS: Record<number, string> = {
  403: 'Forbidden',
  404: 'NotFound',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export class KubeApiProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly faults: (KubeFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly upstreamRequests = new Set<ReturnType<typeof https.request>>();
  private isCut = false;
  private readonly agent: https.Agent;

  private constructor(
    private readonly server: https.Server,
    private readonly upstream: URL,
    caPem: string,
    readonly url: string,
  ) {
    this.agent = new https.Agent({ ca: caPem, keepAlive: true });
  }

  /** Starts a proxy for `upstream` (https://127.0.0.1:PORT) serving with the API server's certificate. */
  static async start(opts: { upstream: string; certPem: string; keyPem: string; caPem: string }): Promise<KubeApiProxy> {
    const server = https.createServer({ cert: opts.certPem, key: opts.keyPem });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const proxy = new KubeApiProxy(server, new URL(opts.upstream), opts.caPem, `https://127.0.0.1:${port}`);
    server.on('connection', (socket: Socket) => {
      if (proxy.isCut) {
        socket.destroy();
        return;
      }
      proxy.sockets.add(socket);
      socket.once('close', () => proxy.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    return proxy;
  }

  fail(fault: KubeFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? Infinity });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Drops every open connection (watches included) and refuses new ones until restore(). */
  cut(): void {
    this.isCut = true;
    for (const r of this.upstreamRequests) r.destroy();
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.isCut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(r: KubeRequest): KubeFault | undefined {
    const now = Date.now();
    for (const f of this.faults) {
      if (f.remaining <= 0 || (f.untilMs !== undefined && now > f.untilMs) || !f.match(r)) continue;
      f.remaining -= 1;
      return f;
    }
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const info: KubeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, watch };
    const record = (status: number | 'cut', injected: boolean): void => {
      this.requests.push({ at: Date.now(), method: info.method, path: info.path, watch, status, injected });
    };
    if (this.isCut) {
      record('cut', false);
      req.socket.destroy();
      return;
    }
    const fault = this.takeFault(info);
    if (fault !== undefined) {
      req.resume();
      if (fault.answer === 'watch-410') {
        const status = {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'too old resource version (injected)',
          reason: 'Expired',
          code: 410,
        };
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        record(200, true);
        return;
      }
      const code = fault.answer;
      const body = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `injected ${code} by the test bed proxy`,
        reason: REASONS[code] ?? 'InternalError',
        code,
      };
      res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      record(code, true);
      return;
    }
    const upstream = https.request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.upstream.host },
        agent: this.agent,
      },
      (up) => {
        record(up.statusCode ?? 502, false);
        res.writeHead(up.statusCode ?? 502, up.headers);
        // A watch answers headers first and events much later: send the headers now, or the client waits for the first event.
        res.flushHeaders();
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    this.upstreamRequests.add(upstream);
    upstream.once('close', () => this.upstreamRequests.delete(upstream));
    upstream.on('error', () => {
      // The API server is down or the link was cut: the client sees its connection drop.
      if (!res.headersSent) record('cut', false);
      req.socket.destroy();
    });
    req.pipe(upstream);
    res.on('close', () => upstream.destroy());
  }
}
