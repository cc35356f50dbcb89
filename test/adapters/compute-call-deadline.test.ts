// Compute call deadlines (gcp/call-deadline.ts): the real clients over real HTTP against a loopback
// server (not nock: nock's interceptors keep every request they served, which would hide what this
// measures). A finished call must not stay reachable until its deadline, and a call that outlives
// its deadline must fail as gax reports it and be cancelled on the wire.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createComputeClients, endpointOptions, type ComputeClients } from '../../src/gcp/clients.js';

// A collection the test asks for: WeakRefs are cleared only when the GC runs.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('Compute call deadlines (loopback HTTP)', () => {
  let server: http.Server;
  let clients: ComputeClients;
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  beforeEach(async () => {
    server = http.createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    clients = createComputeClients(endpointOptions(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
  afterEach(async () => {
    await clients.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a finished call is not kept reachable until its deadline (gax’s AbortSignal.timeout held each one for 60 s)', async () => {
    handle = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'hc', id: '1', type: 'HTTP' }));
    };
    const requests: WeakRef<object>[] = [];
    for (let i = 0; i < 50; i++) {
      const request = { project: 'p', healthCheck: `hc-${i}` };
      requests.push(new WeakRef(request));
      const [hc] = await clients.healthChecks.get(request);
      assert.equal(hc.name, 'hc');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    const reachable = requests.filter((r) => r.deref() !== undefined).length;
    // Each request is reachable from its call's closure; with the stub's deadline signal all 50 were.
    assert.ok(reachable <= 2, `${reachable} of 50 finished calls still reachable`);
  });

  it('a call that outlives its deadline fails DEADLINE_EXCEEDED with gax’s message, and its request is aborted', async () => {
    let closed: Promise<void> = Promise.reject(new Error('no request arrived'));
    closed.catch(() => undefined);
    handle = (req) => {
      closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
    }; // never answers
    const start = Date.now();
    await assert.rejects(
      // PATCH is not retried by gax, so the one attempt's deadline is the call's.
      clients.healthChecks.patch({ project: 'p', healthCheck: 'hc', healthCheckResource: { checkIntervalSec: 5 } }, { timeout: 300 }),
      (e: Error & { code?: number }) => {
        assert.equal(e.code, 4); // DEADLINE_EXCEEDED
        assert.match(e.message, /^Deadline exceeded: \w+ did not respond within \d+ milliseconds\.$/);
        return true;
      },
    );
    const took = Date.now() - start;
    assert.ok(took >= 250 && took < 2_000, `failed after ${took} ms (deadline 300 ms)`);
    await closed; // the server saw the request go away
  });
});
