// The GCP inventory's bounds, over a counting fake of the Compute API and a fake clock: a failed
// list is retried on demand only after an exponential backoff shared by every caller, and names GCP
// does not have are negatively cached until the next scheduled re-list.
import assert from 'node:assert/strict';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import { GcpError } from '../../src/gcp/errors.js';
import type { BackendServiceRef, LiveHealthCheck } from '../../src/model/health-check.js';
import { liveCheck } from '../support/fixtures.js';

const RESYNC_MS = 120_000;

class CountingCompute implements HealthCheckApi {
  lists = 0;
  gets = 0;
  fail: GcpError | undefined;
  backends: BackendServiceRef[] = [];
  checks: LiveHealthCheck[] = [];
  listBackendServices(): Promise<BackendServiceRef[]> {
    this.lists += 1;
    return this.fail ? Promise.reject(this.fail) : Promise.resolve(this.backends);
  }
  listHealthChecks(): Promise<LiveHealthCheck[]> {
    return this.fail ? Promise.reject(this.fail) : Promise.resolve(this.checks);
  }
  getHealthCheck(name: string): Promise<LiveHealthCheck | undefined> {
    this.gets += 1;
    return Promise.resolve(this.checks.find((c) => c.name === name));
  }
  patchHealthCheck(): Promise<void> {
    return Promise.resolve();
  }
}

function backend(name: string): BackendServiceRef {
  return { name, scope: { kind: 'global' }, healthCheck: { name, scope: { kind: 'global' } }, backendKind: 'neg' };
}

function setup() {
  let clock = 1_000_000;
  const api = new CountingCompute();
  const inv = new HealthCheckInventory(api, { minRefreshIntervalMs: 15_000, maxFailureBackoffMs: RESYNC_MS, now: () => clock });
  return { api, inv, advance: (ms: number) => (clock += ms) };
}

const want = (...backendServices: string[]) => ({ backendServices, healthChecks: [] });

describe('inventory: bounded re-lists', () => {
  it('a failed list is retried on demand at 15 s, 30 s, 60 s … at most --resync, however many callers ask', async () => {
    const t = setup();
    t.api.fail = new GcpError('rate_limited', 403, 'Quota exceeded for quota metric');
    await assert.rejects(t.inv.refreshIfDue(want('k8s1-a')), /Quota exceeded/);
    assert.equal(t.api.lists, 1);
    const attempts: number[] = [];
    // 10 Services retrying every second for 10 minutes.
    for (let s = 1; s <= 600; s++) {
      t.advance(1000);
      for (let i = 0; i < 10; i++) {
        const before = t.api.lists;
        await t.inv.refreshIfDue(want(`k8s1-svc-${i}`)).catch((e: unknown) => {
          assert.ok(e instanceof GcpError && e.errorClass === 'rate_limited', 'the last failure, for the error policy');
        });
        if (t.api.lists > before) attempts.push(s);
      }
    }
    assert.deepEqual(attempts, [15, 45, 105, 225, 345, 465, 585], 'backoff 15, 30, 60, 120 s, then every --resync');
  });

  it('while backing off, the caller gets the last failure and a hint of when the next attempt is', async () => {
    const t = setup();
    t.api.fail = new GcpError('retryable', 503, 'backend error');
    await assert.rejects(t.inv.refreshIfDue(want('k8s1-a')));
    t.advance(5000);
    await assert.rejects(t.inv.refreshIfDue(want('k8s1-a')), /backend error \(listing GCP failed; next on-demand re-list in 10 s\)/);
    assert.equal(t.api.lists, 1);
  });

  it('a success ends the backoff; the scheduled re-list is never held back by it', async () => {
    const t = setup();
    t.api.fail = new GcpError('retryable', 503, 'backend error');
    await assert.rejects(t.inv.refreshIfDue(want('k8s1-a')));
    t.api.fail = undefined;
    t.advance(1000);
    await t.inv.refresh(); // the --resync timer
    assert.equal(t.api.lists, 2);
    t.advance(15_000);
    assert.equal(await t.inv.refreshIfDue(want('k8s1-b')), true);
    assert.equal(t.api.lists, 3);
  });

  it('many Services naming backends GCP lacks: one re-list, then none until the next scheduled re-list', async () => {
    const t = setup();
    t.api.backends = [backend('k8s1-known')];
    await t.inv.refresh();
    t.advance(15_000);
    for (let i = 0; i < 50; i++) await t.inv.refreshIfDue(want(`k8s1-unknown-${i}`));
    assert.equal(t.api.lists, 2, 'one on-demand re-list for the first; the rest within the interval');
    // Every 15 s for the rest of the resync interval: the names already missing ask for nothing.
    for (let s = 0; s < 6; s++) {
      t.advance(15_000);
      for (let i = 0; i < 50; i++) await t.inv.refreshIfDue(want(`k8s1-unknown-${i}`));
    }
    assert.equal(t.api.lists, 3, 'the 49 asked during the interval get one more re-list between them, then are cached missing');
    // The scheduled re-list ends the negative cache; one more on-demand look per interval.
    t.advance(15_000);
    await t.inv.refresh();
    t.advance(15_000);
    for (let i = 0; i < 50; i++) await t.inv.refreshIfDue(want(`k8s1-unknown-${i}`));
    assert.equal(t.api.lists, 5);
    // A name GKE has since created is found by the scheduled re-list.
    t.api.backends = [backend('k8s1-known'), backend('k8s1-unknown-7')];
    t.advance(RESYNC_MS);
    await t.inv.refresh();
    assert.ok(t.inv.backendService('k8s1-unknown-7', 'global'));
  });

  it('a new name is still worth a re-list (once per interval) while others are cached missing', async () => {
    const t = setup();
    await t.inv.refresh();
    t.advance(15_000);
    assert.equal(await t.inv.refreshIfDue(want('k8s1-gone')), true);
    t.advance(15_000);
    assert.equal(await t.inv.refreshIfDue(want('k8s1-gone')), false, 'cached missing');
    t.api.backends = [backend('k8s1-new')];
    assert.equal(await t.inv.refreshIfDue(want('k8s1-gone', 'k8s1-new')), true);
    assert.ok(t.inv.backendService('k8s1-new', 'global'));
  });

  it('a 404 arms one re-list for that check that skips the interval', async () => {
    const t = setup();
    t.api.backends = [backend('k8s1-a')];
    t.api.checks = [liveCheck({ name: 'k8s1-a' })];
    await t.inv.refresh();
    t.inv.forgetHealthCheck('k8s1-a', { kind: 'global' });
    t.advance(1000);
    const wantCheck = { backendServices: [], healthChecks: [{ name: 'k8s1-a', scope: { kind: 'global' } as const }] };
    assert.equal(await t.inv.refreshIfDue(wantCheck), true);
    assert.ok(t.inv.healthCheck('k8s1-a', { kind: 'global' }));
    t.inv.forgetHealthCheck('k8s1-a', { kind: 'global' });
    t.api.checks = [];
    t.advance(1000);
    assert.equal(await t.inv.refreshIfDue(wantCheck), true, 'each 404 arms one');
    t.advance(1000);
    assert.equal(await t.inv.refreshIfDue(wantCheck), false, 'then the interval and the negative cache apply');
    assert.equal(t.api.lists, 3);
  });

  it('a GET of a patched check counts as a read started after the patch', async () => {
    const t = setup();
    t.api.backends = [backend('k8s1-a')];
    t.api.checks = [liveCheck({ name: 'k8s1-a', requestPath: '/' })];
    await t.inv.refresh();
    t.inv.recordPatch('k8s1-a', { kind: 'global' }, { requestPath: '/ready' });
    t.api.checks = [liveCheck({ name: 'k8s1-a', requestPath: '/reverted' })];
    const read = await t.inv.reread('k8s1-a', { kind: 'global' });
    assert.equal(read?.block?.requestPath, '/reverted');
    assert.equal(t.inv.healthCheck('k8s1-a', { kind: 'global' })?.block?.requestPath, '/reverted');
    assert.equal(t.api.gets, 1);
  });

  it('a re-list keeps the object of every check and backend service whose listed data is the same, and replaces changed ones', async () => {
    const t = setup();
    const g = { kind: 'global' } as const;
    const list = (paths: Record<string, string>, bPort = '80') => {
      // Fresh objects on every list, as decoding the API's JSON gives.
      const b = { ...backend('k8s1-b'), service: { namespace: 'default', name: 'web', port: bPort } };
      t.api.backends = [backend('k8s1-a'), b, backend('k8s1-c')];
      t.api.checks = Object.entries(paths).map(([name, requestPath]) => liveCheck({ name, requestPath }));
    };
    list({ 'k8s1-a': '/a', 'k8s1-b': '/b', 'k8s1-c': '/c' });
    await t.inv.refresh();
    const [a, b, c] = ['k8s1-a', 'k8s1-b', 'k8s1-c'].map((n) => t.inv.healthCheck(n, g));
    const [bsA, bsB] = ['k8s1-a', 'k8s1-b'].map((n) => t.inv.backendService(n, 'global'));
    list({ 'k8s1-a': '/a', 'k8s1-b': '/hand', 'k8s1-c': '/c' }, '8080');
    await t.inv.refresh();
    assert.equal(t.inv.healthCheck('k8s1-a', g), a, 'unchanged check: the same object');
    assert.notEqual(t.inv.healthCheck('k8s1-b', g), b, 'changed check: a new object');
    assert.equal(t.inv.healthCheck('k8s1-b', g)?.block?.requestPath, '/hand');
    assert.equal(t.inv.healthCheck('k8s1-c', g), c);
    assert.equal(t.inv.backendService('k8s1-a', 'global'), bsA, 'unchanged backend service: the same object');
    assert.notEqual(t.inv.backendService('k8s1-b', 'global'), bsB, 'a backend service with another description: a new object');
    assert.equal(t.inv.backendService('k8s1-b', 'global')?.service?.port, '8080');
    // A patch hcsync made, then a list that shows it: the patched object is kept.
    t.inv.recordPatch('k8s1-a', g, { requestPath: '/patched' });
    const patched = t.inv.healthCheck('k8s1-a', g);
    list({ 'k8s1-a': '/patched', 'k8s1-b': '/hand', 'k8s1-c': '/c' }, '8080');
    await t.inv.refresh();
    assert.equal(t.inv.healthCheck('k8s1-a', g), patched);
    assert.equal(t.inv.healthCheck('k8s1-a', g)?.block?.requestPath, '/patched');
  });

  it('one name in two scopes: two backend services and two checks, each found in its own scope (and a name in one scope only)', async () => {
    const t = setup();
    const g = { kind: 'global' } as const;
    const r = { kind: 'region', region: 'europe-west1' } as const;
    const regional = { name: 'k8s1-x', scope: r, healthCheck: { name: 'k8s1-x', scope: r }, backendKind: 'neg' } as const;
    t.api.backends = [backend('k8s1-x'), regional, backend('k8s1-g')];
    t.api.checks = [
      liveCheck({ name: 'k8s1-x', requestPath: '/g' }),
      liveCheck({ name: 'k8s1-x', scope: r, requestPath: '/r' }),
      liveCheck({ name: 'k8s1-g' }),
    ];
    await t.inv.refresh();
    assert.deepEqual(t.inv.size, { backendServices: 3, healthChecks: 3 });
    assert.equal(t.inv.backendService('k8s1-x', 'global')?.scope.kind, 'global');
    assert.equal(t.inv.backendService('k8s1-x', 'regional')?.scope.kind, 'region');
    assert.equal(t.inv.backendService('k8s1-g', 'regional')?.scope.kind, 'global', 'the only one there is');
    assert.equal(t.inv.healthCheck('k8s1-x', g)?.block?.requestPath, '/g');
    assert.equal(t.inv.healthCheck('k8s1-x', r)?.block?.requestPath, '/r');
    assert.equal(t.inv.healthCheck('k8s1-g', r), undefined);
    t.inv.recordPatch('k8s1-x', r, { requestPath: '/r2' });
    assert.equal(t.inv.healthCheck('k8s1-x', r)?.block?.requestPath, '/r2');
    assert.equal(t.inv.healthCheck('k8s1-x', g)?.block?.requestPath, '/g', 'the other scope untouched');
    t.inv.forgetHealthCheck('k8s1-x', r);
    assert.equal(t.inv.healthCheck('k8s1-x', r), undefined);
    assert.deepEqual(t.inv.size, { backendServices: 3, healthChecks: 2 });
  });
});
