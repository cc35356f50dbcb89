// Really health-checks endpoints the way GCE does for NEG backends: an HTTP GET to each endpoint
// behind each backend service, every checkIntervalSec (scaled), counting only HTTP 200 as success,
// flipping state after healthyThreshold / unhealthyThreshold consecutive results.
import http from 'node:http';
import { jsonText, type EndpointHealth, type JsonObject, type NetworkEndpoint, type Store } from './store.js';
import { allBackendTargets, healthKey, protocolBlock } from './topology.js';

/** How often the scheduler looks for due probes; small against any scaled interval we use. */
const TICK_MS = 5;

interface Schedule {
  nextAt: number;
  inFlight: boolean;
}

export class Prober {
  private readonly schedules = new Map<string, Schedule>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly timeScale: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const req of this.inFlight) req.destroy();
    this.inFlight.clear();
  }

  private tick(): void {
    const now = Date.now();
    const live = new Set<string>();
    for (const target of allBackendTargets(this.store)) {
      const hc = target.healthCheck;
      if (!hc) continue;
      for (const ep of target.endpoints) {
        const key = healthKey(target.backendServiceLink, ep);
        live.add(key);
        let schedule = this.schedules.get(key);
        if (!schedule) {
          // First probe right away; GCE starts checking as soon as an endpoint is attached.
          schedule = { nextAt: now, inFlight: false };
          this.schedules.set(key, schedule);
          this.store.health.set(key, { state: 'UNKNOWN', consecutiveSuccesses: 0, consecutiveFailures: 0, lastDetail: '' });
        }
        if (schedule.inFlight || now < schedule.nextAt) continue;
        schedule.inFlight = true;
        schedule.nextAt = now + Number(hc['checkIntervalSec'] ?? 5) * 1000 * this.timeScale;
        void this.probe(hc, ep).then((result) => {
          schedule.inFlight = false;
          if (!this.stopped && this.schedules.get(key) === schedule) this.record(key, hc, result);
        });
      }
    }
    // Endpoints detached or backend services deleted: forget them.
    for (const key of this.schedules.keys()) {
      if (!live.has(key)) {
        this.schedules.delete(key);
        this.store.health.delete(key);
      }
    }
  }

  private record(key: string, hc: JsonObject, result: { ok: boolean; detail: string }): void {
    const h: EndpointHealth = this.store.health.get(key) ?? {
      state: 'UNKNOWN',
      consecutiveSuccesses: 0,
      consecutiveFailures: 0,
      lastDetail: '',
    };
    h.lastDetail = result.detail;
    if (result.ok) {
      h.consecutiveSuccesses += 1;
      h.consecutiveFailures = 0;
      if (h.state !== 'HEALTHY' && h.consecutiveSuccesses >= Number(hc['healthyThreshold'] ?? 2)) this.flip(key, h, 'HEALTHY');
    } else {
      h.consecutiveFailures += 1;
      h.consecutiveSuccesses = 0;
      if (h.state !== 'UNHEALTHY' && h.consecutiveFailures >= Number(hc['unhealthyThreshold'] ?? 2)) this.flip(key, h, 'UNHEALTHY');
    }
    this.store.health.set(key, h);
  }

  private flip(key: string, h: EndpointHealth, state: EndpointHealth['state']): void {
    this.log(`compute: prober ${key} ${h.state} -> ${state} (${h.lastDetail})`);
    h.state = state;
  }

  private probe(hc: JsonObject, ep: NetworkEndpoint): Promise<{ ok: boolean; detail: string }> {
    const block = protocolBlock(hc) ?? {};
    if (hc['type'] !== 'HTTP') {
      // Only plain HTTP checks are modelled; anything else never passes, which is loud in tests.
      // (TCP was tried: nock 15, loaded in every test process, fakes the 'connect' event of raw
      // sockets before the real attempt fails, so a TCP probe cannot tell open from closed there.)
      return Promise.resolve({ ok: false, detail: `type ${jsonText(hc['type'])} not probed by the stand-in` });
    }
    const port = block['portSpecification'] === 'USE_SERVING_PORT' ? ep.port : Number(block['port'] ?? 80);
    const path = jsonText(block['requestPath'] ?? '/');
    const host = typeof block['host'] === 'string' && block['host'] !== '' ? block['host'] : ep.ipAddress;
    const expected = typeof block['response'] === 'string' ? block['response'] : undefined;
    const timeoutMs = Math.max(1, Number(hc['timeoutSec'] ?? 5) * 1000 * this.timeScale);
    return new Promise((resolve) => {
      let settled = false;
      const done = (ok: boolean, detail: string): void => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(req);
        clearTimeout(timer);
        resolve({ ok, detail });
      };
      const req = http.get(
        { host: ep.ipAddress, port, path, headers: { Host: host, 'User-Agent': 'GoogleHC/1.0', Connection: 'close' }, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('latin1');
          res.on('data', (chunk: string) => {
            if (body.length < 1024) body += chunk;
          });
          res.on('end', () => {
            // GCE: only 200 passes (3xx/404 fail); `response` must appear in the first 1024 bytes.
            const okStatus = res.statusCode === 200;
            const okBody = expected === undefined || body.slice(0, 1024).includes(expected);
            done(okStatus && okBody, `GET ${host}${path} via ${ep.ipAddress}:${port} -> ${String(res.statusCode)}`);
          });
          res.on('error', (err) => done(false, err.message));
        },
      );
      this.inFlight.add(req);
      const timer = setTimeout(() => {
        req.destroy();
        done(false, `timeout after ${timeoutMs}ms`);
      }, timeoutMs);
      req.on('error', (err) => done(false, `${ep.ipAddress}:${port} ${err.message}`));
    });
  }
}
