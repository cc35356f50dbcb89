// The Compute adapter against nock: every call it makes and every error class it sorts.
// (The end-to-end proof is against the Compute stand-in over real HTTP; this pins the wire shapes.)
import assert from 'node:assert/strict';
import nock from 'nock';
import { createComputeClients, endpointOptions, type ComputeClients } from '../../src/gcp/clients.js';
import { ComputeAdapter } from '../../src/gcp/compute-adapter.js';
import { GcpError } from '../../src/gcp/errors.js';

const ENDPOINT = 'http://127.0.0.1:1';
const BASE = '/compute/v1/projects/p';
const hcJson = (name: string, extra: object = {}) => ({
  name,
  id: '42',
  type: 'HTTP',
  checkIntervalSec: 15,
  timeoutSec: 15,
  httpHealthCheck: { requestPath: '/', portSpecification: 'USE_SERVING_PORT' },
  ...extra,
});
const gceError = (code: number, reason: string, message: string) => ({
  error: { code, message, errors: [{ domain: 'global', reason, message }] },
});

describe('Compute adapter (nock)', () => {
  let clients: ComputeClients;
  let adapter: ComputeAdapter;
  const observed: [string, number][] = [];

  beforeEach(() => {
    clients = createComputeClients(endpointOptions(ENDPOINT));
    observed.length = 0;
    adapter = new ComputeAdapter(clients, 'p', (m, code) => observed.push([m, code]));
  });
  afterEach(async () => {
    await clients.close();
  });

  it('lists health checks with aggregatedList across pages and scopes', async () => {
    const scope = nock(ENDPOINT)
      .get(`${BASE}/aggregated/healthChecks`)
      .query((q) => q['maxResults'] === '500' && q['pageToken'] === undefined)
      .reply(200, { items: { global: { healthChecks: [hcJson('k8s1-a')] } }, nextPageToken: 't2' })
      .get(`${BASE}/aggregated/healthChecks`)
      .query((q) => q['pageToken'] === 't2')
      .reply(200, {
        items: {
          'regions/europe-west1': { healthChecks: [hcJson('k8s1-b', { httpHealthCheck: { requestPath: '/r', host: 'h.example' } })] },
        },
      });
    const checks = await adapter.listHealthChecks();
    scope.done();
    assert.deepEqual(
      checks.map((c) => [c.name, c.scope, c.block?.requestPath, c.block?.host]),
      [
        ['k8s1-a', { kind: 'global' }, '/', ''],
        ['k8s1-b', { kind: 'region', region: 'europe-west1' }, '/r', 'h.example'],
      ],
    );
    assert.deepEqual(observed, [['healthChecks.aggregatedList', 200]]);
  });

  it('lists backend services and reads their link, service and kind', async () => {
    nock(ENDPOINT)
      .get(`${BASE}/aggregated/backendServices`)
      .query(true)
      .reply(200, {
        items: {
          global: {
            backendServices: [
              {
                name: 'k8s1-abcd1234-default-web-80-0f0f0f0f',
                healthChecks: [
                  'https://www.googleapis.com/compute/beta/projects/p/global/healthChecks/k8s1-abcd1234-default-web-80-0f0f0f0f',
                ],
                description: '{"kubernetes.io/service-name":"default/web","kubernetes.io/service-port":"80","x-features":["NEG"]}',
                backends: [
                  {
                    group:
                      'https://www.googleapis.com/compute/v1/projects/p/zones/z/networkEndpointGroups/k8s1-abcd1234-default-web-80-0f0f0f0f',
                  },
                ],
              },
            ],
          },
          'regions/us-central1': {
            backendServices: [
              {
                name: 'k8s-be-31000--uid',
                healthChecks: ['https://www.googleapis.com/compute/v1/projects/p/regions/us-central1/healthChecks/k8s-be-31000--uid'],
              },
            ],
          },
        },
      });
    const [neg, ig] = await adapter.listBackendServices();
    assert.deepEqual(neg?.service, { namespace: 'default', name: 'web', port: '80' });
    assert.deepEqual(neg?.healthCheck, { name: 'k8s1-abcd1234-default-web-80-0f0f0f0f', scope: { kind: 'global' } });
    assert.equal(neg?.backendKind, 'neg');
    assert.equal(ig?.backendKind, 'ig');
    assert.deepEqual(ig?.healthCheck?.scope, { kind: 'region', region: 'us-central1' });
  });

  it('aggregatedList pages are read as the JSON GCP sent, without gax’s protobuf round trip (a steady resync’s CPU)', async () => {
    nock(ENDPOINT)
      .get(`${BASE}/aggregated/healthChecks`)
      .query(true)
      .reply(200, { items: { global: { healthChecks: [hcJson('k8s1-a', { notInTheDescriptor: 'kept' })] } } });
    const pages: [string, { healthChecks?: object[] | null }][] = [];
    for await (const page of clients.healthChecks.aggregatedListAsync({ project: 'p' }, { autoPaginate: false })) pages.push(page);
    // gax's decoding drops a field its descriptor lacks and fills every absent repeated field with [].
    const [item] = pages[0]?.[1].healthChecks ?? [];
    assert.equal((item as Record<string, unknown> | undefined)?.['notInTheDescriptor'], 'kept');
    assert.equal((item as Record<string, unknown> | undefined)?.['sourceRegions'], undefined);
  });

  it('reads a list page’s quoted numbers (proto3 JSON allows them) as numbers', async () => {
    nock(ENDPOINT)
      .get(`${BASE}/aggregated/healthChecks`)
      .query(true)
      .reply(200, {
        items: {
          global: {
            healthChecks: [
              hcJson('k8s-be-31000--uid', {
                checkIntervalSec: '10',
                timeoutSec: '2',
                httpHealthCheck: { requestPath: '/', port: '31000', portSpecification: 'USE_FIXED_PORT' },
              }),
            ],
          },
        },
      });
    const [hc] = await adapter.listHealthChecks();
    assert.deepEqual([hc?.checkIntervalSec, hc?.timeoutSec, hc?.block?.port], [10, 2, 31000]);
  });

  it('a failed list page is still GCP’s error (gax decodes errors)', async () => {
    nock(ENDPOINT)
      .get(`${BASE}/aggregated/backendServices`)
      .query(true)
      .reply(403, gceError(403, 'forbidden', 'Required permission compute.backendServices.list'));
    await assert.rejects(adapter.listBackendServices(), (err: unknown) => err instanceof GcpError && err.errorClass === 'forbidden');
    assert.deepEqual(observed, [['backendServices.aggregatedList', 403]]);
  });

  it('getHealthCheck: one GET of one check (global or regional), counted; a 404 is undefined', async () => {
    nock(ENDPOINT)
      .get(`${BASE}/global/healthChecks/hc`)
      .reply(200, hcJson('hc', { httpHealthCheck: { requestPath: '/ready', host: 'h' } }))
      .get(`${BASE}/regions/r1/healthChecks/gone`)
      .reply(404, gceError(404, 'notFound', "The resource 'gone' was not found"));
    const hc = await adapter.getHealthCheck('hc', { kind: 'global' });
    assert.deepEqual(hc?.block, { requestPath: '/ready', host: 'h' });
    assert.equal(await adapter.getHealthCheck('gone', { kind: 'region', region: 'r1' }), undefined);
    assert.deepEqual(observed, [
      ['healthChecks.get', 200],
      ['regionHealthChecks.get', 404],
    ]);
    assert.ok(nock.isDone());
  });

  it('patches only owned fields as a merge patch with a requestId, then waits for the Operation', async () => {
    let body: unknown;
    nock(ENDPOINT)
      .patch(`${BASE}/global/healthChecks/hc`, (b: unknown) => ((body = b), true))
      .query({ requestId: 'req-1' })
      .reply(200, { name: 'op-1', status: 'RUNNING' })
      .post(`${BASE}/global/operations/op-1/wait`)
      .reply(200, { name: 'op-1', status: 'RUNNING' })
      .post(`${BASE}/global/operations/op-1/wait`)
      .reply(200, { name: 'op-1', status: 'DONE' });
    await adapter.patchHealthCheck(
      { name: 'hc', scope: { kind: 'global' }, type: 'HTTP' },
      { requestPath: '/ready', host: '', timeoutSec: 5 },
      'req-1',
    );
    assert.deepEqual(body, { httpHealthCheck: { requestPath: '/ready', host: '' }, timeoutSec: 5 });
    assert.deepEqual(
      observed.map((o) => o[0]),
      ['healthChecks.patch', 'globalOperations.wait', 'globalOperations.wait'],
    );
    assert.ok(nock.isDone());
  });

  it('patches the block of the check’s type (HTTPS) in a region and waits on the region operation', async () => {
    let body: unknown;
    nock(ENDPOINT)
      .patch(`${BASE}/regions/r1/healthChecks/hc`, (b: unknown) => ((body = b), true))
      .query(true)
      .reply(200, { name: 'op-2', status: 'PENDING' })
      .post(`${BASE}/regions/r1/operations/op-2/wait`)
      .reply(200, { name: 'op-2', status: 'DONE' });
    await adapter.patchHealthCheck({ name: 'hc', scope: { kind: 'region', region: 'r1' }, type: 'HTTPS' }, { requestPath: '/s' }, 'req-2');
    assert.deepEqual(body, { httpsHealthCheck: { requestPath: '/s' } });
    assert.ok(nock.isDone());
  });

  it('a DONE Operation with an error is a failure carrying GCP’s message', async () => {
    nock(ENDPOINT)
      .patch(`${BASE}/global/healthChecks/hc`)
      .query(true)
      .reply(200, {
        name: 'op-3',
        status: 'DONE',
        httpErrorStatusCode: 400,
        error: { errors: [{ code: 'INVALID_USAGE', message: 'Invalid value for field resource.timeoutSec' }] },
      });
    await assert.rejects(
      adapter.patchHealthCheck({ name: 'hc', scope: { kind: 'global' }, type: 'HTTP' }, { timeoutSec: 99 }, 'r'),
      (e: unknown) => {
        assert.ok(e instanceof GcpError);
        assert.equal(e.errorClass, 'invalid');
        assert.match(e.message, /Invalid value for field resource.timeoutSec/);
        return true;
      },
    );
  });

  for (const [code, status] of [
    ['QUOTA_EXCEEDED', 403],
    ['RATE_LIMIT_EXCEEDED', 429],
    ['QUOTA_EXCEEDED', 400],
  ] as const) {
    it(`an Operation that ends in ${code} (httpErrorStatusCode ${status}) is rate_limited, so writes back off globally`, async () => {
      nock(ENDPOINT)
        .patch(`${BASE}/global/healthChecks/hc`)
        .query(true)
        .reply(200, { name: 'op-q', status: 'RUNNING' })
        .post(`${BASE}/global/operations/op-q/wait`)
        .reply(200, {
          name: 'op-q',
          status: 'DONE',
          httpErrorStatusCode: status,
          error: { errors: [{ code, message: "Quota 'HEALTH_CHECKS' exceeded.  Limit: 75.0 globally." }] },
        });
      await assert.rejects(
        adapter.patchHealthCheck({ name: 'hc', scope: { kind: 'global' }, type: 'HTTP' }, { requestPath: '/x' }, 'r'),
        (e: unknown) => {
          assert.ok(e instanceof GcpError);
          assert.equal(e.errorClass, 'rate_limited', e.message);
          return true;
        },
      );
    });
  }

  it('a slow Operation is waited for only up to the deadline (retryable), however long each wait call blocks', async () => {
    const quick = new ComputeAdapter(clients, 'p', () => undefined, 400);
    nock(ENDPOINT)
      .patch(`${BASE}/global/healthChecks/hc`)
      .query(true)
      .reply(200, { name: 'op-slow', status: 'RUNNING' })
      .post(`${BASE}/global/operations/op-slow/wait`)
      .times(20)
      .delay(150)
      .reply(200, { name: 'op-slow', status: 'RUNNING' })
      .post(`${BASE}/global/operations/op-slow/wait`)
      .delay(60_000) // GCE's wait can block up to ~2 min
      .reply(200, { name: 'op-slow', status: 'RUNNING' });
    const start = Date.now();
    await assert.rejects(
      quick.patchHealthCheck({ name: 'hc', scope: { kind: 'global' }, type: 'HTTP' }, { requestPath: '/x' }, 'r'),
      (e: unknown) => {
        assert.ok(e instanceof GcpError);
        assert.equal(e.errorClass, 'retryable');
        assert.match(e.message, /did not finish within 0.4 s/);
        return true;
      },
    );
    assert.ok(Date.now() - start < 1_500, `gave up after ${Date.now() - start} ms`);
    nock.abortPendingRequests();
  });

  const errorClasses: [string, number, object, GcpError['errorClass']][] = [
    [
      '404 notFound → not_found (BackendNotReady, requeue)',
      404,
      gceError(404, 'notFound', "The resource 'projects/p/global/healthChecks/hc' was not found"),
      'not_found',
    ],
    ['403 rateLimitExceeded → rate_limited (back off)', 403, gceError(403, 'rateLimitExceeded', 'Rate Limit Exceeded'), 'rate_limited'],
    ['429 → rate_limited (back off)', 429, gceError(429, 'rateLimitExceeded', 'Too Many Requests'), 'rate_limited'],
    ['403 forbidden → forbidden', 403, gceError(403, 'forbidden', "Required 'compute.healthChecks.update' permission"), 'forbidden'],
    [
      '400 invalid → invalid (PatchFailed with GCP’s message)',
      400,
      gceError(400, 'invalid', "Invalid value for field 'resource.timeoutSec': '20'. TimeoutSec should be less than checkIntervalSec."),
      'invalid',
    ],
    ['400 resourceNotReady → retryable', 400, gceError(400, 'resourceNotReady', "The resource 'hc' is not ready"), 'retryable'],
    ['503 backendError → retryable', 503, gceError(503, 'backendError', 'Backend Error'), 'retryable'],
  ];
  for (const [name, status, body, cls] of errorClasses) {
    it(`patch error ${name}`, async () => {
      nock(ENDPOINT).patch(`${BASE}/global/healthChecks/hc`).query(true).reply(status, body);
      await assert.rejects(
        adapter.patchHealthCheck({ name: 'hc', scope: { kind: 'global' }, type: 'HTTP' }, { requestPath: '/x' }, 'r'),
        (e: unknown) => {
          assert.ok(e instanceof GcpError, String(e));
          assert.equal(e.errorClass, cls, e.message);
          assert.equal(e.httpStatus, status);
          return true;
        },
      );
      assert.deepEqual(observed, [['healthChecks.patch', status]]);
    });
  }

  it('refuses to patch a TCP check without calling GCP', async () => {
    await assert.rejects(
      adapter.patchHealthCheck({ name: 'hc', scope: { kind: 'global' }, type: 'TCP' }, { requestPath: '/x' }, 'r'),
      /type TCP/,
    );
    assert.deepEqual(observed, []);
  });
});
