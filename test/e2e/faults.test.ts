// Faults while hcsync converges, on the real test bed: the built hcsync as its own process(es)
// under the shipped RBAC, each behind its own fault proxy to kube-apiserver (testbed/kube-proxy.ts)
// and its own endpoint of the Compute stand-in, so every write is counted from the stand-in's
// request log per check and per process — never from hcsync's own account of itself.
//
// Each fault gets its own namespace with 8 Services whose checks drifted ("/" where the
// readinessProbe says /ready), plus controls hcsync must never write: a BackendConfig-owned
// check, a Service in `hcsync.io/mode: ignore`, and a drifted Service in another tenant's
// namespace that this hcsync does not watch. Phase 2, after the fault: 4 Services get a new
// intent (hcsync.io/health-path /ready2), which proves hcsync still sees the cluster.
//
// Measured per fault: converged (all 12 targets reached), patches sent / needed, duplicates (a
// patch applied to a check whose identical patch had already been applied), wrong writes (a
// PATCH to a control check or of a field hcsync must not touch), writes from a non-leader (a
// write while the Lease did not name the writer), time. The goals are asserted per fault; the
// table is printed at the end. Some fail on today's main: that is what this suite is for
// (README "Faults and bad input").
import assert from 'node:assert/strict';
import { CoordinationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { HealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions, type InjectedFailure, type RequestRecord } from '../../testbed/compute/index.js';
import { KubeApiProxy } from '../../testbed/kube-proxy.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

const MANAGED = 8;
const PHASE2 = 4;
const PORT = 80;
/**
 * Phase 1 runs from hcsync's spawn, through its start-up (informer lists, leader election, the
 * first GCP list) and the fault itself. The slowest faults wait out a bound the product sets on
 * purpose: the 20 s Operation deadline (operation-never-done) or the 15 s write pause after a
 * rate-limit answer (gcp-429, gcp-403-ratelimitexceeded). 35 s = that 20 s + 15 s for start-up and
 * the re-patch on two loaded cores; 25 s left under a second of slack (24.2 s measured on a quiet
 * machine), and the table still prints each fault's measured seconds.
 */
const PHASE1_DEADLINE_MS = 35_000;
const PHASE2_DEADLINE_MS = 15_000;
const LEASE_S = 4;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The fields hcsync may write (README "What it decides"): anything else in a PATCH body is a wrong write. */
const OWNED_TOP = new Set(['checkIntervalSec', 'timeoutSec', 'httpHealthCheck', 'httpsHealthCheck', 'http2HealthCheck']);
const OWNED_BLOCK = new Set(['requestPath', 'host']);

interface Replica {
  readonly caller: string;
  readonly proxy: KubeApiProxy;
  readonly process: HcsyncProcess;
}

interface Row {
  fault: string;
  converged: boolean;
  sent: number;
  needed: number;
  duplicates: number;
  wrong: number;
  nonLeader: number;
  invalid: number;
  seconds: number;
  note: string;
}

interface LeaseSample {
  holder: string;
  acquireMs: number;
  renewMs: number;
}

describe('e2e: faults while hcsync converges (fault | converged | patches | duplicates | wrong writes | non-leader writes)', function () {
  this.timeout(120_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let nextIp = 60;
  const rows: Row[] = [];

  before(async function () {
    this.timeout(60_000);
    bed = await TestBed.start({ operationWaitCapMs: 5_000 });
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    await bed.gke.start();
    await bed.hcsyncKubeconfig(); // RBAC once
  });

  after(async () => {
    const head = ['fault', 'converged', 'patches sent/needed', 'duplicates', 'wrong writes', 'non-leader writes', 'invalid (400)', 'time'];
    const body = rows.map((r) => [
      r.fault,
      r.converged ? 'yes' : 'no',
      `${r.sent}/${r.needed}`,
      String(r.duplicates),
      String(r.wrong),
      String(r.nonLeader),
      String(r.invalid),
      `${r.seconds.toFixed(1)} s${r.note ? ` (${r.note})` : ''}`,
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
    process.stdout.write(`\n${[line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n\n`);
    await hcs?.close();
    await bed?.stop();
  });

  const getHc = async (ns: string, svc: string): Promise<IHealthCheck | undefined> => {
    try {
      return (await hcs.get({ project: bed.project, healthCheck: bed.checkName(ns, svc, PORT) }))[0];
    } catch {
      return undefined;
    }
  };

  /** Namespace with 8 drifted Services and the controls; returns when every check exists and the Pods are in. */
  async function setUp(ns: string): Promise<void> {
    const tenant = `${ns}-t`;
    await bed.ensureNamespace(ns);
    await bed.ensureNamespace(tenant);
    const app = await bed.startApp(`127.0.0.${nextIp++}`, ['/ready', '/ready2', '/bc']);
    await bed.createBackendConfig(ns, 'bc', { requestPath: '/bc' });
    const managed = Array.from({ length: MANAGED }, (_, i) => `s${i}`);
    for (const s of managed) await bed.createService(ns, s, PORT);
    await bed.createService(ns, 'bc', PORT, { 'cloud.google.com/backend-config': '{"default":"bc"}' });
    await bed.createService(ns, 'ign', PORT, { 'hcsync.io/mode': 'ignore' });
    await bed.createService(tenant, 's0', PORT);
    const all = [...managed, 'bc', 'ign'];
    await bed.net.createNamespacedIngress({
      namespace: ns,
      body: {
        metadata: { name: 'ing' },
        spec: {
          defaultBackend: { service: { name: 's0', port: { number: PORT } } },
          rules: [
            {
              http: {
                paths: all.map((s) => ({ path: `/${s}`, pathType: 'Prefix', backend: { service: { name: s, port: { number: PORT } } } })),
              },
            },
          ],
        },
      },
    });
    await bed.createIngress(tenant, 'ing', 's0', PORT);
    // The Ingress comes before the Pods: GKE builds the checks from its defaults ("/"), so only hcsync can move them.
    await until(
      `GKE created the checks in ${ns}`,
      async () => {
        const have = await Promise.all([...all.map((s) => getHc(ns, s)), getHc(tenant, 's0')]);
        return have.every(Boolean) ? true : undefined;
      },
      // Set-up, not the behaviour under test: the ingress-gce stand-in creates ~10 checks with
      // their backends and URL map; on a loaded 2-core machine that took over 40 s (full runs, 2026-11-30).
      90_000,
      250,
    );
    const probe = { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2 };
    for (const s of [...all]) await bed.createPod(ns, `${s}-1`, { ip: app.ip, port: app.port, labels: { app: s }, readinessProbe: probe });
    await bed.createPod(tenant, 's0-1', { ip: app.ip, port: app.port, labels: { app: 's0' }, readinessProbe: probe });
  }

  /** One hcsync replica with its own API-server proxy and Compute endpoint. */
  async function spawn(ns: string, caller: string, extra: string[], beforeStart?: (p: KubeApiProxy) => void): Promise<Replica> {
    const kp = bed.cp.servingKeyPair();
    const proxy = await KubeApiProxy.start({ upstream: bed.cp.server, ...kp });
    beforeStart?.(proxy);
    const kubeconfig = await bed.hcsyncKubeconfig({ server: proxy.url, file: `${caller}.kubeconfig` });
    const computeEndpoint = await bed.compute.endpointFor(caller);
    const args = ['run', '--resync', '5s', '--gcp-write-qps', '5', '--namespaces', ns, '--log-level', 'info', ...extra];
    const process = await bed.spawnHcsync(args, kubeconfig, { computeEndpoint });
    return { caller, proxy, process };
  }

  const patchesBy = (callers: readonly string[], since: number): RequestRecord[] =>
    bed.compute.requestLog().filter((r) => r.at >= since && callers.includes(r.caller) && r.api.endsWith('ealthChecks.patch'));

  /** Waits for the targets; true when all reached. */
  async function converge(targets: Map<string, string>, deadlineMs: number): Promise<boolean> {
    return until(
      'targets',
      async () => {
        for (const [key, path] of targets) {
          const [ns, svc] = key.split('/') as [string, string];
          const hc = await getHc(ns, svc);
          if (hc?.httpHealthCheck?.requestPath !== path) return undefined;
          // The probe's timing comes along (NEG: no +60 s).
          if (path === '/ready' && (hc.checkIntervalSec !== 10 || hc.timeoutSec !== 2)) return undefined;
        }
        return true;
      },
      deadlineMs,
      250,
    ).catch(() => false);
  }

  /** Lease holder samples every 100 ms (read straight from the API server, not through any proxy). */
  function watchLease(name: string): { samples: LeaseSample[]; stop: () => void } {
    const leases = bed.kc.makeApiClient(CoordinationV1Api);
    const samples: LeaseSample[] = [];
    let stopped = false;
    void (async () => {
      while (!stopped) {
        try {
          const l = await leases.readNamespacedLease({ name, namespace: 'hcsync-system' });
          const holder = l.spec?.holderIdentity ?? '';
          if (holder) {
            samples.push({
              holder,
              acquireMs: new Date(String(l.spec?.acquireTime)).getTime(),
              renewMs: new Date(String(l.spec?.renewTime)).getTime(),
            });
          }
        } catch {
          // not created yet, or the API server is restarting
        }
        await sleep(100);
      }
    })();
    return { samples, stop: () => (stopped = true) };
  }

  /** identity in the Lease → caller, from each replica's "acquired leader lease" log line. */
  function identities(replicas: readonly Replica[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of replicas) {
      for (const l of r.process.lines) {
        if (!l.includes('acquired leader lease')) continue;
        try {
          const id = (JSON.parse(l) as { identity?: string }).identity;
          if (id) out.set(id, r.caller);
        } catch {
          // not JSON
        }
      }
    }
    return out;
  }

  /** A write is a leader's when some term of the writer covers it: acquired ≤ t ≤ last renew + lease, and before the next term. */
  function nonLeaderWrites(writes: readonly RequestRecord[], samples: readonly LeaseSample[], ids: Map<string, string>): number {
    const terms = new Map<string, { caller: string; start: number; end: number }>();
    for (const s of samples) {
      const key = `${s.holder}@${s.acquireMs}`;
      const t = terms.get(key) ?? { caller: ids.get(s.holder) ?? s.holder, start: s.acquireMs, end: s.renewMs + LEASE_S * 1000 };
      t.end = Math.max(t.end, s.renewMs + LEASE_S * 1000);
      terms.set(key, t);
    }
    const sorted = [...terms.values()].sort((a, b) => a.start - b.start);
    sorted.forEach((t, i) => {
      const next = sorted[i + 1];
      if (next) t.end = Math.min(t.end, next.start);
    });
    return writes.filter((w) => !sorted.some((t) => t.caller === w.caller && w.at >= t.start && w.at <= t.end)).length;
  }

  interface Fault {
    name: string;
    /** What waits for which fix (README); empty when the goal should hold today. */
    note?: string;
    replicas?: 1 | 2;
    beforeStart?: (proxy: KubeApiProxy, startAt: number) => void;
    /** Runs once the first patch reached GCP (the fault hits hcsync mid-convergence). */
    atFirstPatch?: (ctx: { replicas: Replica[]; leader: Replica | undefined }) => Promise<void>;
    /** Runs right after the replicas were spawned. */
    atStart?: () => void;
  }

  async function runFault(f: Fault): Promise<Row> {
    const ns = `f-${f.name}`;
    await setUp(ns);
    const started = Date.now();
    // The shipped Role allows only the Lease named hcsync; the leader cases run one after the other.
    const leaseName = 'hcsync';
    const leaderArgs =
      f.replicas === 2
        ? ['--leader-elect', 'true', '--leader-election-namespace', 'hcsync-system'].concat([
            '--lease-duration',
            `${LEASE_S}s`,
            '--renew-deadline',
            '3s',
            '--retry-period',
            '500ms',
          ])
        : [];
    const lease = f.replicas === 2 ? watchLease(leaseName) : undefined;
    f.atStart?.();
    const replicas: Replica[] = [];
    for (let i = 0; i < (f.replicas ?? 1); i++) {
      replicas.push(await spawn(ns, `${f.name}-${String.fromCharCode(97 + i)}`, leaderArgs, (p) => f.beforeStart?.(p, started)));
    }
    const callers = replicas.map((r) => r.caller);
    try {
      if (f.atFirstPatch) {
        const first = await until('a first patch', () => patchesBy(callers, started)[0], PHASE1_DEADLINE_MS, 20).catch(() => undefined);
        await f.atFirstPatch({ replicas, leader: replicas.find((r) => r.caller === first?.caller) });
      }
      const targets = new Map(Array.from({ length: MANAGED }, (_, i) => [`${ns}/s${i}`, '/ready'] as [string, string]));
      let converged = await converge(targets, PHASE1_DEADLINE_MS);
      const phase2 = converged;
      if (converged) {
        for (let i = 0; i < PHASE2; i++) {
          await bed.core.patchNamespacedService(
            { namespace: ns, name: `s${i}`, body: { metadata: { annotations: { 'hcsync.io/health-path': '/ready2' } } } },
            merge,
          );
          targets.set(`${ns}/s${i}`, '/ready2');
        }
        converged = await converge(targets, PHASE2_DEADLINE_MS);
      }
      const seconds = (Date.now() - started) / 1000;
      await sleep(1500); // a trailing patch would land here
      lease?.stop();

      const managedChecks = new Set(Array.from({ length: MANAGED }, (_, i) => bed.checkName(ns, `s${i}`, PORT)));
      const bcCheck = bed.checkName(ns, 'bc', PORT);
      const writes = patchesBy(callers, started);
      const seenOps = new Set<string>();
      const applied = new Map<string, Set<string>>();
      let duplicates = 0;
      let wrong = 0;
      const wrongWrites: string[] = [];
      for (const w of writes) {
        const fields = Object.entries(w.body);
        const badField = fields.some(
          ([k, v]) => !OWNED_TOP.has(k) || (typeof v === 'object' && v !== null && Object.keys(v).some((b) => !OWNED_BLOCK.has(b))),
        );
        // The BackendConfig sets requestPath only: ingress-gce owns that field of the bc check; its timing is hcsync's (README).
        const touchesOwned = w.resource === bcCheck && fields.some(([, v]) => typeof v === 'object' && v !== null && 'requestPath' in v);
        if (!(managedChecks.has(w.resource ?? '') || w.resource === bcCheck) || badField || touchesOwned) {
          wrong++;
          wrongWrites.push(`${w.resource ?? '?'} ${JSON.stringify(w.body)}`);
        }
        if (w.status !== 200 || w.operation === undefined || seenOps.has(w.operation)) continue;
        seenOps.add(w.operation);
        if (bed.compute.operationOutcome(w.operation) !== 'done') continue;
        const body = JSON.stringify(w.body);
        const set = applied.get(w.resource ?? '') ?? new Set<string>();
        if (set.has(body)) duplicates++;
        set.add(body);
        applied.set(w.resource ?? '', set);
      }
      const ids = identities(replicas);
      const row: Row = {
        fault: f.name,
        converged,
        sent: writes.filter((w) => managedChecks.has(w.resource ?? '') || w.resource === bcCheck).length,
        // 8 drifted checks, the bc check's timing (probe: 10/2; the BackendConfig sets only the path), 4 new intents.
        needed: MANAGED + 1 + (phase2 ? PHASE2 : 0),
        duplicates,
        wrong,
        nonLeader: lease ? nonLeaderWrites(writes, lease.samples, ids) : 0,
        invalid: writes.filter((w) => w.status === 400).length,
        seconds,
        note: [f.note ?? '', ...wrongWrites.map((w) => `wrong: ${w}`)].filter(Boolean).join('; '),
      };
      rows.push(row);
      if (!converged || process.env['FAULTS_DEBUG']) {
        // What hcsync said about it: its warnings and errors first.
        for (const r of replicas) {
          const notable = r.process.lines.filter((l) => !/"level":"(info|debug)"/.test(l)).slice(0, 15);
          process.stderr.write(`--- ${r.caller}: ${r.process.lines.length} log lines; warnings/errors:\n${notable.join('\n')}\n`);
          if (process.env['FAULTS_DEBUG']) {
            process.stderr.write(`${r.process.lines.slice(-15).join('\n')}\n`);
            process.stderr.write(`proxy: ${JSON.stringify(r.proxy.requests.slice(0, 20))}\n`);
            const gcpCalls = bed.compute.requestLog().filter((q) => q.caller === r.caller);
            process.stderr.write(`compute: ${JSON.stringify(gcpCalls.slice(0, 10).map((q) => [q.api, q.status]))}\n`);
          }
        }
      }
      return row;
    } finally {
      lease?.stop();
      for (const r of replicas) {
        await r.process.stop().catch(() => 0);
        await r.proxy.stop();
      }
    }
  }

  function assertGoals(row: Row): void {
    const detail = JSON.stringify(row);
    assert.equal(row.wrong, 0, `wrong writes: ${detail}`);
    assert.equal(row.nonLeader, 0, `writes from a non-leader: ${detail}`);
    assert.equal(row.invalid, 0, `invalid writes (400): ${detail}`);
    assert.ok(row.converged, `did not converge: ${detail}`);
    assert.equal(row.duplicates, 0, `duplicates: ${detail}`);
  }

  const gcp = (failure: InjectedFailure) => () => bed.compute.injectFailure('healthChecks.patch', failure);
  const isBackendConfigList = (r: { method: string; path: string; watch: boolean }) =>
    r.method === 'GET' && !r.watch && r.path.includes('/apis/cloud.google.com/') && r.path.endsWith('/backendconfigs');

  const faults: Fault[] = [
    { name: 'none' },
    {
      name: 'apiserver-restart',
      atFirstPatch: async () => {
        await bed.cp.restartApiServer();
      },
    },
    {
      name: 'etcd-compaction',
      // Compaction alone leaves the watch cache serving; a restart after it makes every re-watch from an old resourceVersion a real 410.
      atFirstPatch: async () => {
        await bed.cp.compactEtcd();
        await bed.cp.restartApiServer();
      },
    },
    {
      name: 'watch-410',
      atFirstPatch: async ({ replicas }) => {
        for (const r of replicas) {
          r.proxy.fail({ match: (q) => q.watch, answer: 'watch-410', untilMs: Date.now() + 3_000 });
          r.proxy.cut(); // drop the open watches; every re-watch for 3 s ends in 410 Expired
          r.proxy.restore();
        }
      },
    },
    {
      name: 'backendconfig-list-403',
      beforeStart: (p, t) => p.fail({ match: isBackendConfigList, answer: 403, untilMs: t + 5_000 }),
    },
    {
      name: 'backendconfig-list-500',
      beforeStart: (p, t) => p.fail({ match: isBackendConfigList, answer: 500, untilMs: t + 5_000 }),
    },
    { name: 'gcp-403-ratelimitexceeded', atStart: gcp({ status: 403, reason: 'rateLimitExceeded', times: 4 }) },
    { name: 'gcp-429', atStart: gcp({ status: 429, reason: 'rateLimitExceeded', times: 4 }) },
    { name: 'gcp-500', atStart: gcp({ status: 500, reason: 'backendError', times: 4 }) },
    { name: 'gcp-503', atStart: gcp({ status: 503, reason: 'backendError', times: 4 }) },
    { name: 'gcp-network-reset', atStart: gcp({ status: 0, reason: 'reset', reset: true, times: 4 }) },
    { name: 'operation-done-with-error', atStart: gcp({ status: 500, reason: 'internalError', operationLevel: true, times: 4 }) },
    {
      name: 'operation-never-done',
      atStart: gcp({ status: 0, reason: 'hang', hang: true, times: 2 }),
    },
    {
      name: 'leader-sigkill',
      replicas: 2,
      atFirstPatch: async ({ leader }) => {
        leader?.process.kill();
        await Promise.resolve();
      },
    },
    {
      name: 'leader-partition',
      replicas: 2,
      atFirstPatch: async ({ leader }) => {
        leader?.proxy.cut(); // the leader's API-server link only; its Compute endpoint stays up
        await Promise.resolve();
      },
    },
  ];

  for (const f of faults) {
    it(`${f.name}: converges, no wrong write, no write from a non-leader, no duplicate`, async function () {
      this.timeout(PHASE1_DEADLINE_MS + PHASE2_DEADLINE_MS + 120_000);
      bed.compute.clearFailures();
      const row = await runFault(f);
      bed.compute.clearFailures();
      assertGoals(row);
    });
  }
});
