// The Compute stand-in driven by the REAL @google-cloud/compute clients over real loopback HTTP.
// These tests pin both the stand-in's behaviour and how the client surfaces each error class, which
// the GCP adapter relies on.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BackendServicesClient,
  GlobalOperationsClient,
  HealthChecksClient,
  NetworkEndpointGroupsClient,
  RegionHealthChecksClient,
  RegionOperationsClient,
  UrlMapsClient,
  ZoneOperationsClient,
  type protos,
} from '@google-cloud/compute';
import { computeClientOptions, GFE_502_BODY, startComputeStandIn, type ComputeStandIn } from '../../testbed/compute/index.js';
import { pickService } from '../../testbed/compute/loadbalancer.js';

process.env.METADATA_SERVER_DETECTION = 'none';

type IOperation = protos.google.cloud.compute.v1.IOperation;
type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

const PROJECT = 'hcsync-test';
const REGION = 'us-central1';
const ZONE = 'us-central1-a';
const RAW_PAYLOAD = Symbol.for('google-gax.rawHttpResponsePayload');

/** What a GoogleError from compute 7.8 carries; asserted field by field below. */
interface SurfacedError {
  name: string;
  code: number | undefined;
  httpStatusCode: number | undefined;
  message: string;
  reason: string | undefined;
  domain: string | undefined;
  legacyReason: string | undefined;
}

async function surfaced(call: Promise<unknown>): Promise<SurfacedError> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { code?: number; httpStatusCode?: number; reason?: string; domain?: string } & Record<symbol, unknown>;
    const raw = e[RAW_PAYLOAD];
    const parsed = typeof raw === 'string' ? (JSON.parse(raw) as { error?: { errors?: { reason?: string }[] } }) : undefined;
    return {
      name: e.constructor.name,
      code: e.code,
      httpStatusCode: e.httpStatusCode,
      message: e.message,
      reason: e.reason,
      domain: e.domain,
      legacyReason: parsed?.error?.errors?.[0]?.reason,
    };
  }
  assert.fail('expected the call to fail');
}

function httpCheck(name: string, overrides: Partial<IHealthCheck> = {}): IHealthCheck {
  return {
    name,
    type: 'HTTP',
    checkIntervalSec: 5,
    timeoutSec: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    httpHealthCheck: { port: 8080, requestPath: '/', host: 'svc.example.com' },
    ...overrides,
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function httpGet(address: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const [hostname, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: hostname, port: Number(port), path, headers: { Host: host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('Compute stand-in with the real @google-cloud/compute client', function () {
  this.timeout(20_000);

  let standIn: ComputeStandIn;
  let hcs: HealthChecksClient;
  let regionHcs: RegionHealthChecksClient;
  let backendServices: BackendServicesClient;
  let negs: NetworkEndpointGroupsClient;
  let urlMaps: UrlMapsClient;
  let globalOps: GlobalOperationsClient;
  let regionOps: RegionOperationsClient;
  let zoneOps: ZoneOperationsClient;
  const logs: string[] = [];

  /** Waits on any write's Operation the way production code must: loop on wait until DONE. */
  async function done(op: IOperation | null | undefined): Promise<IOperation> {
    assert.ok(op?.name, 'write returned an operation');
    for (;;) {
      const [current] = op.zone
        ? await zoneOps.wait({ project: PROJECT, zone: op.zone.split('/').pop() as string, operation: op.name })
        : op.region
          ? await regionOps.wait({ project: PROJECT, region: op.region.split('/').pop() as string, operation: op.name })
          : await globalOps.wait({ project: PROJECT, operation: op.name });
      if (current.status === 'DONE') return current;
    }
  }

  async function insertHc(resource: IHealthCheck): Promise<IOperation> {
    const [lro] = await hcs.insert({ project: PROJECT, healthCheckResource: resource });
    return done(lro.latestResponse as IOperation);
  }

  async function getHc(name: string): Promise<IHealthCheck> {
    const [hc] = await hcs.get({ project: PROJECT, healthCheck: name });
    return hc;
  }

  before(async () => {
    standIn = await startComputeStandIn({ project: PROJECT, timeScale: 0.02, operationDelayMs: 60, log: (l) => logs.push(l) });
    const options = computeClientOptions(standIn.endpoint);
    hcs = new HealthChecksClient(options);
    regionHcs = new RegionHealthChecksClient(options);
    backendServices = new BackendServicesClient(options);
    negs = new NetworkEndpointGroupsClient(options);
    urlMaps = new UrlMapsClient(options);
    globalOps = new GlobalOperationsClient(options);
    regionOps = new RegionOperationsClient(options);
    zoneOps = new ZoneOperationsClient(options);
  });

  after(async () => {
    await Promise.all([hcs, regionHcs, backendServices, negs, urlMaps, globalOps, regionOps, zoneOps].map((c) => c?.close()));
    await standIn?.stop();
  });

  afterEach(() => {
    standIn.clearFailures();
    standIn.setQuotaPerMinute(undefined);
    standIn.setWriteQuotaPerSecond(undefined);
  });

  it('exposes client options with the port separate from apiEndpoint', () => {
    const options = computeClientOptions(standIn.endpoint);
    assert.equal(options.apiEndpoint, '127.0.0.1');
    assert.equal(`http://127.0.0.1:${options.port}`, standIn.endpoint);
    assert.equal(options.protocol, 'http');
    assert.equal(options.fallback, true);
  });

  describe('health checks', () => {
    it('inserts through an Operation whose effect lands only when it is DONE', async () => {
      const [lro] = await hcs.insert({ project: PROJECT, healthCheckResource: httpCheck('crud-a') });
      const op = lro.latestResponse as IOperation;
      assert.ok(op.status === 'PENDING' || op.status === 'RUNNING', `status ${String(op.status)}`);
      assert.equal(op.operationType, 'insert');
      assert.equal(op.targetLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/healthChecks/crud-a`);
      const finished = await done(op);
      assert.equal(finished.status, 'DONE');
      assert.equal(finished.progress, 100);
      assert.equal(finished.error, undefined);

      const hc = await getHc('crud-a');
      assert.match(String(hc.id), /^\d{19}$/, 'int64 id as a decimal string');
      assert.equal(hc.id, finished.targetId);
      assert.equal(hc.kind, 'compute#healthCheck');
      assert.equal(hc.selfLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/healthChecks/crud-a`);
      assert.ok(hc.creationTimestamp && !Number.isNaN(Date.parse(hc.creationTimestamp)));
      const { port, requestPath, host, proxyHeader, portSpecification } = hc.httpHealthCheck ?? {};
      assert.deepEqual(
        { port, requestPath, host, proxyHeader, portSpecification },
        { port: 8080, requestPath: '/', host: 'svc.example.com', proxyHeader: 'NONE', portSpecification: undefined },
      );
    });

    it('fills GCE defaults on insert', async () => {
      await insertHc({ name: 'defaults', type: 'HTTP', httpHealthCheck: { portSpecification: 'USE_SERVING_PORT' } });
      const hc = await getHc('defaults');
      assert.equal(hc.checkIntervalSec, 5);
      assert.equal(hc.timeoutSec, 5);
      assert.equal(hc.healthyThreshold, 2);
      assert.equal(hc.unhealthyThreshold, 2);
      assert.equal(hc.httpHealthCheck?.requestPath, '/');
      assert.equal(hc.httpHealthCheck?.port, undefined, 'no port for USE_SERVING_PORT');
    });

    it('patches with JSON merge semantics and keeps id and creationTimestamp', async () => {
      await insertHc(httpCheck('merge'));
      const before = await getHc('merge');
      const [lro] = await hcs.patch({
        project: PROJECT,
        healthCheck: 'merge',
        healthCheckResource: { httpHealthCheck: { requestPath: '/healthz' }, checkIntervalSec: 10 },
      });
      await done(lro.latestResponse as IOperation);
      const after = await getHc('merge');
      assert.equal(after.httpHealthCheck?.requestPath, '/healthz');
      assert.equal(after.httpHealthCheck?.port, 8080, 'nested block merged, not replaced');
      assert.equal(after.httpHealthCheck?.host, 'svc.example.com');
      assert.equal(after.checkIntervalSec, 10);
      assert.equal(after.timeoutSec, 5);
      assert.equal(after.id, before.id);
      assert.equal(after.creationTimestamp, before.creationTimestamp);
    });

    it('clears a field when a merge patch sends null (raw HTTP, the client cannot send null)', async () => {
      await insertHc(httpCheck('nulls'));
      const res = await fetch(`${standIn.endpoint}/compute/v1/projects/${PROJECT}/global/healthChecks/nulls`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ httpHealthCheck: { host: null } }),
      });
      assert.equal(res.status, 200);
      await done((await res.json()) as IOperation);
      const hc = await getHc('nulls');
      assert.equal(hc.httpHealthCheck?.host, undefined);
      assert.equal(hc.httpHealthCheck?.port, 8080);
    });

    it('update (PUT) replaces the whole object; delete then insert gives a new id', async () => {
      await insertHc(httpCheck('replace'));
      const before = await getHc('replace');
      const [lro] = await hcs.update({
        project: PROJECT,
        healthCheck: 'replace',
        healthCheckResource: { name: 'replace', type: 'HTTP', httpHealthCheck: { port: 9090 } },
      });
      await done(lro.latestResponse as IOperation);
      const replaced = await getHc('replace');
      assert.equal(replaced.id, before.id);
      assert.equal(replaced.creationTimestamp, before.creationTimestamp);
      assert.equal(replaced.httpHealthCheck?.host, undefined, 'host not in the PUT body, so gone');
      assert.equal(replaced.httpHealthCheck?.port, 9090);

      const [del] = await hcs.delete({ project: PROJECT, healthCheck: 'replace' });
      await done(del.latestResponse as IOperation);
      assert.equal((await surfaced(getHc('replace'))).httpStatusCode, 404);
      await insertHc(httpCheck('replace'));
      assert.notEqual((await getHc('replace')).id, before.id);
    });

    it('rejects invalid checks with 400 invalid and leaves the stored object alone', async () => {
      const tooLong = await surfaced(
        hcs.insert({ project: PROJECT, healthCheckResource: httpCheck('bad-timeout', { checkIntervalSec: 5, timeoutSec: 6 }) }),
      );
      assert.deepEqual(tooLong, {
        name: 'GoogleError',
        code: 3, // INVALID_ARGUMENT
        httpStatusCode: 400,
        message: "Invalid value for field 'resource.timeoutSec': '6'. TimeoutSec should be less than checkIntervalSec.",
        reason: undefined,
        domain: undefined,
        legacyReason: 'invalid',
      });

      const badPath = await surfaced(
        hcs.insert({
          project: PROJECT,
          healthCheckResource: httpCheck('bad-path', { httpHealthCheck: { port: 80, requestPath: 'healthz' } }),
        }),
      );
      assert.equal(badPath.httpStatusCode, 400);
      assert.match(badPath.message, /resource\.httpHealthCheck\.requestPath/);
      const badChars = await surfaced(
        hcs.insert({
          project: PROJECT,
          healthCheckResource: httpCheck('bad-chars', { httpHealthCheck: { port: 80, requestPath: '/a b<>' } }),
        }),
      );
      assert.equal(badChars.httpStatusCode, 400);

      const mismatch = await surfaced(
        hcs.insert({ project: PROJECT, healthCheckResource: { name: 'mismatch', type: 'HTTPS', httpHealthCheck: { port: 80 } } }),
      );
      assert.equal(mismatch.httpStatusCode, 400);
      assert.equal(mismatch.legacyReason, 'invalid');
      const two = await surfaced(
        hcs.insert({ project: PROJECT, healthCheckResource: { name: 'two', type: 'HTTP', httpHealthCheck: {}, tcpHealthCheck: {} } }),
      );
      assert.equal(two.httpStatusCode, 400);

      await insertHc(httpCheck('keep'));
      const patchErr = await surfaced(hcs.patch({ project: PROJECT, healthCheck: 'keep', healthCheckResource: { timeoutSec: 30 } }));
      assert.equal(patchErr.httpStatusCode, 400);
      assert.equal((await getHc('keep')).timeoutSec, 5);
      // Equality is fine, as on GCE.
      const [eq] = await hcs.patch({ project: PROJECT, healthCheck: 'keep', healthCheckResource: { timeoutSec: 5, checkIntervalSec: 5 } });
      assert.equal((await done(eq.latestResponse as IOperation)).error, undefined);
    });

    it('regional checks live under regions/{r} and complete through regionOperations.wait', async () => {
      const [lro] = await regionHcs.insert({ project: PROJECT, region: REGION, healthCheckResource: httpCheck('regional-a') });
      const op = lro.latestResponse as IOperation;
      assert.equal(op.region, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/${REGION}`);
      await done(op);
      const [hc] = await regionHcs.get({ project: PROJECT, region: REGION, healthCheck: 'regional-a' });
      assert.equal(hc.region, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/${REGION}`);
      assert.equal(hc.selfLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/${REGION}/healthChecks/regional-a`);
      const [patch] = await regionHcs.patch({
        project: PROJECT,
        region: REGION,
        healthCheck: 'regional-a',
        healthCheckResource: { httpHealthCheck: { requestPath: '/ready' } },
      });
      await done(patch.latestResponse as IOperation);
      const [after] = await regionHcs.get({ project: PROJECT, region: REGION, healthCheck: 'regional-a' });
      assert.equal(after.httpHealthCheck?.requestPath, '/ready');
      assert.equal((await surfaced(hcs.get({ project: PROJECT, healthCheck: 'regional-a' }))).httpStatusCode, 404, 'not global');
    });

    it('lists with maxResults/pageToken and a name filter', async () => {
      for (const n of ['page-1', 'page-2', 'page-3']) await insertHc(httpCheck(n));
      const [first, next] = await hcs.list({ project: PROJECT, maxResults: 2, filter: 'name eq page-.*' }, { autoPaginate: false });
      assert.deepEqual(
        first.map((h) => h.name),
        ['page-1', 'page-2'],
      );
      assert.ok(next?.pageToken);
      const [second, last] = await hcs.list({ ...next, project: PROJECT }, { autoPaginate: false });
      assert.deepEqual(
        second.map((h) => h.name),
        ['page-3'],
      );
      assert.equal(last, null);
      const [exact] = await hcs.list({ project: PROJECT, filter: 'name = "page-2"' }, { autoPaginate: false });
      assert.deepEqual(
        exact.map((h) => h.name),
        ['page-2'],
      );
    });

    it('aggregatedList pages over global and regional scopes', async () => {
      await regionHcs
        .insert({ project: PROJECT, region: 'europe-west1', healthCheckResource: httpCheck('agg-eu') })
        .then(([l]) => done(l.latestResponse as IOperation));
      standIn.resetCounts();
      const seen: string[] = [];
      const warnings: string[] = [];
      for await (const [scope, scoped] of hcs.aggregatedListAsync({ project: PROJECT, maxResults: 3 }, { autoPaginate: false })) {
        for (const hc of scoped.healthChecks ?? []) seen.push(`${scope}:${String(hc.name)}`);
        if (scoped.warning?.code) warnings.push(`${scope}:${scoped.warning.code}`);
      }
      const [all] = await hcs.list({ project: PROJECT }, { autoPaginate: false });
      const expected = [
        ...all.map((h) => `global:${String(h.name)}`),
        `regions/europe-west1:agg-eu`,
        `regions/${REGION}:regional-a`,
      ].sort();
      assert.deepEqual([...seen].sort(), expected);
      assert.ok(warnings.some((w) => w.endsWith('NO_RESULTS_ON_PAGE')));
      const pages = Math.ceil(expected.length / 3);
      assert.equal(standIn.requestCounts()['healthChecks.aggregatedList'], pages);
    });

    it('aggregatedList answers unreachables when returnPartialSuccess is sent (raw HTTP: 7.8 has no such request field)', async () => {
      const res = await fetch(
        `${standIn.endpoint}/compute/v1/projects/${PROJECT}/aggregated/healthChecks?returnPartialSuccess=true&maxResults=1`,
      );
      const body = (await res.json()) as { kind: string; unreachables?: string[]; nextPageToken?: string; items: Record<string, unknown> };
      assert.equal(body.kind, 'compute#healthChecksAggregatedList');
      assert.deepEqual(body.unreachables, []);
      assert.ok(body.nextPageToken);
      assert.ok('global' in body.items && `regions/${REGION}` in body.items);
    });

    it('a write retried with the same requestId returns the first Operation and applies once', async () => {
      await insertHc(httpCheck('idem'));
      const requestId = '6f1a2b3c-0000-4000-8000-000000000001';
      const [first] = await hcs.patch({ project: PROJECT, healthCheck: 'idem', requestId, healthCheckResource: { checkIntervalSec: 7 } });
      const firstOp = await done(first.latestResponse as IOperation);
      const [again] = await hcs.patch({ project: PROJECT, healthCheck: 'idem', requestId, healthCheckResource: { checkIntervalSec: 9 } });
      const againOp = again.latestResponse as IOperation;
      assert.equal(againOp.name, firstOp.name);
      assert.equal(againOp.status, 'DONE');
      assert.equal((await getHc('idem')).checkIntervalSec, 7, 'the replay was not applied');
    });

    it('serves /compute/beta/ like v1 and counts unknown paths as "unknown"', async () => {
      await insertHc(httpCheck('beta-path'));
      standIn.resetCounts();
      const res = await fetch(`${standIn.endpoint}/compute/beta/projects/${PROJECT}/global/healthChecks/beta-path`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { name: string }).name, 'beta-path');
      const miss = await fetch(`${standIn.endpoint}/storage/v1/b`);
      assert.equal(miss.status, 404);
      assert.deepEqual(standIn.requestCounts(), { 'healthChecks.get': 1, unknown: 1 });
    });

    it('counts requests per API method', async () => {
      await insertHc(httpCheck('counted'));
      standIn.resetCounts();
      await getHc('counted');
      const [lro] = await hcs.patch({ project: PROJECT, healthCheck: 'counted', healthCheckResource: { description: 'x' } });
      await done(lro.latestResponse as IOperation);
      await regionHcs.get({ project: PROJECT, region: REGION, healthCheck: 'regional-a' });
      assert.deepEqual(standIn.requestCounts(), {
        'healthChecks.get': 1,
        'healthChecks.patch': 1,
        'globalOperations.wait': 1,
        'regionHealthChecks.get': 1,
      });
      standIn.resetCounts();
      assert.deepEqual(standIn.requestCounts(), {});
    });
  });

  describe('errors as GoogleError surfaces them', () => {
    it('404 notFound → code 5, httpStatusCode 404, no reason; errors[].reason only in the raw payload', async () => {
      const e = await surfaced(getHc('does-not-exist'));
      assert.deepEqual(e, {
        name: 'GoogleError',
        code: 5, // NOT_FOUND
        httpStatusCode: 404,
        message: `The resource 'projects/${PROJECT}/global/healthChecks/does-not-exist' was not found`,
        reason: undefined,
        domain: undefined,
        legacyReason: 'notFound',
      });
    });

    it('403 rateLimitExceeded once the per-minute quota is used up', async () => {
      await insertHc(httpCheck('quota'));
      standIn.setQuotaPerMinute(3);
      standIn.resetCounts();
      for (let i = 0; i < 3; i++) await getHc('quota');
      const e = await surfaced(getHc('quota'));
      assert.equal(standIn.requestCounts()['healthChecks.get'], 4, 'a quota 403 is not retried by gax');
      assert.equal(e.name, 'GoogleError');
      assert.equal(e.code, 7); // PERMISSION_DENIED, taken from the body's status
      assert.equal(e.httpStatusCode, 403);
      assert.equal(e.reason, 'RATE_LIMIT_EXCEEDED'); // from the google.rpc.ErrorInfo detail
      assert.equal(e.domain, 'googleapis.com');
      assert.equal(e.legacyReason, 'rateLimitExceeded');
      assert.match(e.message, /^Quota exceeded for quota metric/);
      standIn.setQuotaPerMinute(undefined);
      await getHc('quota');
    });

    it('403 rateLimitExceeded once the per-second write quota is used up; reads still pass, the next second writes again', async () => {
      await insertHc(httpCheck('write-quota'));
      // Start at the top of a second so the three writes below fall in one quota window.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      standIn.setWriteQuotaPerSecond(2);
      standIn.resetCounts();
      const patch = (path: string) =>
        hcs.patch({ project: PROJECT, healthCheck: 'write-quota', healthCheckResource: { httpHealthCheck: { requestPath: path } } });
      await patch('/one');
      await patch('/two');
      const e = await surfaced(patch('/three'));
      assert.equal(e.httpStatusCode, 403);
      assert.equal(e.reason, 'RATE_LIMIT_EXCEEDED');
      assert.equal(e.legacyReason, 'rateLimitExceeded');
      assert.match(e.message, /Write requests per second/);
      await getHc('write-quota'); // reads are not counted against the write quota
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      await patch('/four');
      assert.equal(standIn.requestCounts()['healthChecks.patch'], 4);
      standIn.setWriteQuotaPerSecond(undefined);
    });

    it('seed: resources appear as if inserted long ago (identity filled in, no Operation, no request); resource() reads a copy', async () => {
      const before = standIn.requestLog().length;
      standIn.seed('global', 'healthChecks', [{ name: 'seeded', type: 'HTTP', httpHealthCheck: { requestPath: '/seeded' } }]);
      assert.equal(standIn.requestLog().length, before, 'seeding sends no request');
      const copy = standIn.resource('global', 'healthChecks', 'seeded');
      assert.equal((copy?.['httpHealthCheck'] as { requestPath?: string }).requestPath, '/seeded');
      if (copy) copy['checkIntervalSec'] = 299;
      const hc = await getHc('seeded');
      assert.equal(hc.kind, 'compute#healthCheck');
      assert.equal(hc.selfLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/healthChecks/seeded`);
      assert.match(String(hc.id), /^\d{19,}$/);
      assert.equal(hc.checkIntervalSec, 5, "GCE's default filled in, and the copy's change did not reach the store");
      assert.equal(hc.httpHealthCheck?.port, 80);
      assert.equal(standIn.resource('global', 'healthChecks', 'absent'), undefined);
      assert.throws(() => standIn.seed('global', 'nothing', [{ name: 'x' }]), /no collection nothing/);
    });

    it('injectDelay: a slow list reads the state on arrival and answers later (a patch meanwhile is not in it)', async () => {
      await insertHc(httpCheck('slow-list', { httpHealthCheck: { port: 8080, requestPath: '/before' } }));
      standIn.injectDelay('healthChecks.aggregatedList', 600);
      const started = Date.now();
      const listing = (async () => {
        const paths: string[] = [];
        for await (const [, scoped] of hcs.aggregatedListAsync({ project: PROJECT }, { autoPaginate: false })) {
          for (const hc of scoped.healthChecks ?? []) if (hc.name === 'slow-list') paths.push(hc.httpHealthCheck?.requestPath ?? '');
        }
        return paths;
      })();
      await new Promise((r) => setTimeout(r, 100));
      const [lro] = await hcs.patch({
        project: PROJECT,
        healthCheck: 'slow-list',
        healthCheckResource: { httpHealthCheck: { requestPath: '/after' } },
      });
      await done(lro.latestResponse as IOperation);
      assert.equal((await getHc('slow-list')).httpHealthCheck?.requestPath, '/after');
      assert.deepEqual(await listing, ['/before']);
      assert.ok(Date.now() - started >= 600, 'answered after the delay');
    });

    it('injected 503 backendError: a GET is retried by gax, a patch fails with code 14', async () => {
      await insertHc(httpCheck('flaky'));
      standIn.resetCounts();
      standIn.injectFailure('healthChecks.get', { status: 503, reason: 'backendError', times: 1 });
      assert.equal((await getHc('flaky')).name, 'flaky');
      assert.equal(standIn.requestCounts()['healthChecks.get'], 2, 'one failure, one retry');

      standIn.injectFailure('healthChecks.patch', { status: 503, reason: 'backendError', message: 'Internal error. Please try again.' });
      const e = await surfaced(hcs.patch({ project: PROJECT, healthCheck: 'flaky', healthCheckResource: { description: 'y' } }));
      assert.deepEqual(e, {
        name: 'GoogleError',
        code: 14,
        httpStatusCode: 503,
        message: 'Internal error. Please try again.',
        reason: undefined,
        domain: undefined,
        legacyReason: 'backendError',
      });
      assert.equal(standIn.requestCounts()['healthChecks.patch'], 1, 'writes are not retried');
    });

    it('injected 429 → code 8 RESOURCE_EXHAUSTED, not retried even on GET', async () => {
      await insertHc(httpCheck('throttled'));
      standIn.resetCounts();
      standIn.injectFailure('healthChecks.get', { status: 429, reason: 'rateLimitExceeded', times: 1 });
      const e = await surfaced(getHc('throttled'));
      assert.equal(e.code, 8);
      assert.equal(e.httpStatusCode, 429);
      assert.equal(e.reason, undefined);
      assert.equal(e.legacyReason, 'rateLimitExceeded');
      assert.equal(standIn.requestCounts()['healthChecks.get'], 1);
    });

    it('an operation-level failure is DONE with error.errors[] and httpErrorStatusCode; nothing changes', async () => {
      await insertHc(httpCheck('op-fail'));
      standIn.injectFailure('healthChecks.patch', {
        status: 400,
        reason: 'resourceNotReady',
        message: 'The resource is not ready',
        operationLevel: true,
      });
      const [lro] = await hcs.patch({
        project: PROJECT,
        healthCheck: 'op-fail',
        healthCheckResource: { httpHealthCheck: { requestPath: '/x' } },
      });
      const op = await done(lro.latestResponse as IOperation);
      assert.equal(op.status, 'DONE');
      assert.equal(op.httpErrorStatusCode, 400);
      assert.equal(op.httpErrorMessage, 'BAD REQUEST');
      assert.deepEqual(
        op.error?.errors?.map((x) => [x.code, x.message]),
        [['RESOURCE_NOT_READY', 'The resource is not ready']],
      );
      assert.equal((await getHc('op-fail')).httpHealthCheck?.requestPath, '/');
      // The injection was used up: the retry goes through.
      const [again] = await hcs.patch({
        project: PROJECT,
        healthCheck: 'op-fail',
        healthCheckResource: { httpHealthCheck: { requestPath: '/x' } },
      });
      assert.equal((await done(again.latestResponse as IOperation)).error, undefined);
      assert.equal((await getHc('op-fail')).httpHealthCheck?.requestPath, '/x');
    });

    it('409 alreadyExists on a duplicate insert', async () => {
      await insertHc(httpCheck('dupe'));
      const e = await surfaced(hcs.insert({ project: PROJECT, healthCheckResource: httpCheck('dupe') }));
      assert.equal(e.code, 10); // gax maps HTTP 409 to ABORTED (10), not ALREADY_EXISTS (6)
      assert.equal(e.httpStatusCode, 409);
      assert.equal(e.legacyReason, 'alreadyExists');
    });
  });

  describe('backend services, NEGs, URL maps, prober and load balancer', () => {
    let app: http.Server;
    let appPort = 0;
    const appHosts: string[] = [];

    before(async () => {
      app = http.createServer((req, res) => {
        if (req.url === '/health-check') appHosts.push(String(req.headers.host));
        if (req.url === '/health-check' || req.url?.startsWith('/app')) res.writeHead(200).end(`app ${req.url}`);
        else res.writeHead(404).end('not found');
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.2', r));
      appPort = (app.address() as AddressInfo).port;
    });

    after(async () => {
      await new Promise<void>((r) => {
        app.close(() => r());
        app.closeAllConnections();
      });
    });

    const link = (path: string): string => `https://www.googleapis.com/compute/v1/projects/${PROJECT}/${path}`;

    it('backend services: CRUD, fingerprint on update, and HCs in use cannot be deleted', async () => {
      await insertHc(httpCheck('bs-hc'));
      const [ins] = await backendServices.insert({
        project: PROJECT,
        backendServiceResource: { name: 'bs-a', healthChecks: [link('global/healthChecks/bs-hc')], protocol: 'HTTP' },
      });
      await done(ins.latestResponse as IOperation);
      const [bs] = await backendServices.get({ project: PROJECT, backendService: 'bs-a' });
      assert.equal(bs.kind, 'compute#backendService');
      assert.ok(bs.fingerprint);
      const [upd] = await backendServices.update({
        project: PROJECT,
        backendService: 'bs-a',
        backendServiceResource: { ...bs, description: 'updated' },
      });
      await done(upd.latestResponse as IOperation);
      const [after] = await backendServices.get({ project: PROJECT, backendService: 'bs-a' });
      assert.equal(after.description, 'updated');
      assert.equal(after.id, bs.id);
      assert.notEqual(after.fingerprint, bs.fingerprint);
      const stale = await surfaced(
        backendServices.update({ project: PROJECT, backendService: 'bs-a', backendServiceResource: { ...bs, description: 'stale' } }),
      );
      assert.equal(stale.httpStatusCode, 412);
      assert.equal(stale.code, 9); // FAILED_PRECONDITION
      assert.equal(stale.legacyReason, 'conditionNotMet');

      const inUse = await surfaced(hcs.delete({ project: PROJECT, healthCheck: 'bs-hc' }));
      assert.equal(inUse.httpStatusCode, 400);
      assert.equal(inUse.code, 3);
      assert.equal(inUse.legacyReason, 'resourceInUseByAnotherResource');
      assert.match(inUse.message, /already being used by 'projects\/hcsync-test\/global\/backendServices\/bs-a'/);

      const scopes: string[] = [];
      for await (const [scope, scoped] of backendServices.aggregatedListAsync({ project: PROJECT }, { autoPaginate: false })) {
        for (const b of scoped.backendServices ?? []) scopes.push(`${scope}:${String(b.name)}`);
      }
      assert.ok(scopes.includes('global:bs-a'), scopes.join());
      const [del] = await backendServices.delete({ project: PROJECT, backendService: 'bs-a' });
      await done(del.latestResponse as IOperation);
      assert.equal((await surfaced(backendServices.get({ project: PROJECT, backendService: 'bs-a' }))).httpStatusCode, 404);
    });

    it('probes endpoints for real: 502 while the check hits a 404 path, 200 once patched to a 200 path', async () => {
      // Interval 1 s and timeout 1 s at timeScale 0.02 → a probe every 20 ms.
      await insertHc(
        httpCheck('web', {
          checkIntervalSec: 1,
          timeoutSec: 1,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/', host: 'web.example.com' },
        }),
      );
      const [negOp] = await negs.insert({
        project: PROJECT,
        zone: ZONE,
        networkEndpointGroupResource: { name: 'web-neg', networkEndpointType: 'GCE_VM_IP_PORT', defaultPort: appPort },
      });
      assert.equal((await done(negOp.latestResponse as IOperation)).error, undefined);
      const [attach] = await negs.attachNetworkEndpoints({
        project: PROJECT,
        zone: ZONE,
        networkEndpointGroup: 'web-neg',
        networkEndpointGroupsAttachEndpointsRequestResource: {
          networkEndpoints: [{ ipAddress: '127.0.0.2', port: appPort, instance: 'node-1' }],
        },
      });
      assert.equal((await done(attach.latestResponse as IOperation)).error, undefined);
      const [eps] = await negs.listNetworkEndpoints(
        { project: PROJECT, zone: ZONE, networkEndpointGroup: 'web-neg' },
        { autoPaginate: false },
      );
      assert.deepEqual(
        eps.map((e) => [e.networkEndpoint?.ipAddress, e.networkEndpoint?.port, e.networkEndpoint?.instance]),
        [['127.0.0.2', appPort, 'node-1']],
      );
      const [neg] = await negs.get({ project: PROJECT, zone: ZONE, networkEndpointGroup: 'web-neg' });
      assert.equal(neg.size, 1);

      const negLink = link(`zones/${ZONE}/networkEndpointGroups/web-neg`);
      const [bsOp] = await backendServices.insert({
        project: PROJECT,
        backendServiceResource: {
          name: 'web',
          healthChecks: [link('global/healthChecks/web')],
          backends: [{ group: negLink, balancingMode: 'RATE', maxRatePerEndpoint: 100 }],
        },
      });
      await done(bsOp.latestResponse as IOperation);
      const [umOp] = await urlMaps.insert({
        project: PROJECT,
        urlMapResource: {
          name: 'web-um',
          defaultService: link('global/backendServices/web'),
          hostRules: [{ hosts: ['web.example.com'], pathMatcher: 'pm' }],
          pathMatchers: [{ name: 'pm', defaultService: link('global/backendServices/web') }],
        },
      });
      await done(umOp.latestResponse as IOperation);
      const lb = standIn.loadBalancerAddress('web-um');
      assert.ok(lb, 'listener open once the urlMaps.insert operation is DONE');

      const health = async (): Promise<string | undefined> => {
        const [h] = await backendServices.getHealth({
          project: PROJECT,
          backendService: 'web',
          resourceGroupReferenceResource: { group: negLink },
        });
        return h.healthStatus?.[0]?.healthState ?? undefined;
      };
      await new Promise((r) => setTimeout(r, 200)); // ~10 probes of '/' → 404
      assert.equal(await health(), 'UNHEALTHY');
      const bad = await httpGet(lb, '/app', 'web.example.com');
      assert.equal(bad.status, 502);
      assert.equal(bad.body, GFE_502_BODY);
      assert.match(bad.body, /<b>502\.<\/b>/);

      const [patch] = await hcs.patch({
        project: PROJECT,
        healthCheck: 'web',
        healthCheckResource: { httpHealthCheck: { requestPath: '/health-check' } },
      });
      await done(patch.latestResponse as IOperation);
      await until('endpoint HEALTHY', async () => ((await health()) === 'HEALTHY' ? true : undefined));
      const [h] = await backendServices.getHealth({
        project: PROJECT,
        backendService: 'web',
        resourceGroupReferenceResource: { group: negLink },
      });
      assert.equal(h.healthStatus?.[0]?.ipAddress, '127.0.0.2');
      assert.equal(h.healthStatus?.[0]?.port, appPort);
      assert.equal(h.healthStatus?.[0]?.instance, link(`zones/${ZONE}/instances/node-1`));
      assert.ok(appHosts.length >= 2 && appHosts.every((x) => x === 'web.example.com'), 'probes send the check host as Host');

      const good = await httpGet(lb, '/app/page', 'web.example.com');
      assert.deepEqual(good, { status: 200, body: 'app /app/page' });

      // And back: detaching the endpoint leaves the backend with nothing healthy.
      const [detach] = await negs.detachNetworkEndpoints({
        project: PROJECT,
        zone: ZONE,
        networkEndpointGroup: 'web-neg',
        networkEndpointGroupsDetachEndpointsRequestResource: { networkEndpoints: [{ ipAddress: '127.0.0.2', port: appPort }] },
      });
      await done(detach.latestResponse as IOperation);
      assert.equal((await httpGet(lb, '/app', 'web.example.com')).status, 502);
    });

    it('routes by host rule and longest path rule, else the default service', () => {
      const um = {
        defaultService: 'default',
        hostRules: [{ hosts: ['*.example.com'], pathMatcher: 'pm' }],
        pathMatchers: [
          {
            name: 'pm',
            defaultService: 'pm-default',
            pathRules: [
              { paths: ['/api/*'], service: 'api' },
              { paths: ['/api/v2/*'], service: 'v2' },
              { paths: ['/exact'], service: 'exact' },
            ],
          },
        ],
      };
      assert.equal(pickService(um, 'a.example.com', '/api/x'), 'api');
      assert.equal(pickService(um, 'a.example.com', '/api/v2/x'), 'v2');
      assert.equal(pickService(um, 'a.example.com', '/api'), 'api');
      assert.equal(pickService(um, 'a.example.com', '/exact'), 'exact');
      assert.equal(pickService(um, 'a.example.com', '/exact/no'), 'pm-default');
      assert.equal(pickService(um, 'other.org', '/api/x'), 'default');
    });
  });

  it('effects land at DONE; operations.wait may answer before DONE (operationWaitCapMs), so callers must loop', async () => {
    const other = await startComputeStandIn({ project: 'p3', operationDelayMs: 300, operationWaitCapMs: 20 });
    const options = computeClientOptions(other.endpoint);
    const client = new HealthChecksClient(options);
    const ops = new GlobalOperationsClient(options);
    try {
      const [lro] = await client.insert({ project: 'p3', healthCheckResource: httpCheck('slow') });
      const name = (lro.latestResponse as IOperation).name as string;
      const invisible = await surfaced(client.get({ project: 'p3', healthCheck: 'slow' }));
      assert.equal(invisible.httpStatusCode, 404, 'the insert lands only when its operation is DONE');
      const [early] = await ops.wait({ project: 'p3', operation: name });
      assert.notEqual(early.status, 'DONE');
      let op = early;
      let waits = 1;
      while (op.status !== 'DONE') {
        [op] = await ops.wait({ project: 'p3', operation: name });
        waits++;
      }
      assert.ok(waits > 2, `looped ${waits} times`);
      const [byGet] = await ops.get({ project: 'p3', operation: name });
      assert.equal(byGet.status, 'DONE');
      assert.equal(other.requestCounts()['globalOperations.wait'], waits);
      assert.equal(other.requestCounts()['globalOperations.get'], 1);
      assert.equal((await client.get({ project: 'p3', healthCheck: 'slow' }))[0].name, 'slow');
    } finally {
      await Promise.all([client.close(), ops.close()]);
      await other.stop();
    }
  });

  it('stops cleanly: no open handles from the prober, operations or listeners', async () => {
    const other = await startComputeStandIn({ project: 'p2', timeScale: 0.02, operationDelayMs: 1000 });
    const options = computeClientOptions(other.endpoint);
    const client = new HealthChecksClient(options);
    const ops = new GlobalOperationsClient(options);
    const [lro] = await client.insert({ project: 'p2', healthCheckResource: httpCheck('slow') });
    const waiting = ops.wait({ project: 'p2', operation: (lro.latestResponse as IOperation).name as string });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await other.stop();
    const [op] = await waiting; // released by stop() rather than hanging until the cap
    assert.notEqual(op.status, 'DONE');
    assert.ok(Date.now() - t0 < 900);
    await Promise.all([client.close(), ops.close()]);
    await other.stop(); // idempotent
  });
});
