// The demo (`npm run demo`): the story hcsync exists for, played on the local test bed with a
// short live narrative — the 502, what hcsync finds, what it changes, the 200 — first on a GKE
// Ingress, then on a GKE Gateway (where hcsync writes a HealthCheckPolicy instead of patching), then
// everything is stopped. It drives the built hcsync (`dist/cli/main.js`) as its own process, so `npm run demo`
// builds dist/ first. It lives with the test bed, outside src/: the image ships neither, and
// `hcsync demo` in the image only points here.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HealthChecksClient } from '@google-cloud/compute/build/src/v1/health_checks_client.js';
import { computeClientOptions } from './compute/index.js';
import { REPO_ROOT, TestBed, httpGet, until } from './bed.js';

const NS = 'production';
const SVC = 'spacejam-np-service';
const INGRESS = 'sample-ingress';
const GW_NS = 'storefront';
const GW_SVC = 'web';
const GATEWAY = 'external';

export async function runDemo(out: NodeJS.WritableStream = process.stdout): Promise<number> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const say = (line = '') => out.write(`${line}\n`);
  const step = (n: number, text: string) => say(`\n[${n}/6] ${text}`);
  const t0 = Date.now();
  say('hcsync demo — "GKE Ingress: how to fix a 502 bad gateway error", on a local test bed');

  step(1, 'Starting a real kube-apiserver + etcd, the Compute API stand-in and the ingress-gce stand-in…');
  const bed = await TestBed.start();
  const hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
  try {
    say(`      up in ${((Date.now() - t0) / 1000).toFixed(1)} s (API server ${bed.cp.server}, Compute API ${bed.compute.endpoint})`);

    step(2, 'Deploying the blog’s app: a livenessProbe on /health-check, no readinessProbe; "/" answers 404.');
    const app = await bed.deployBlogApp(NS, { service: SVC, ingress: INGRESS, ip: '127.0.0.10' });
    say(`      Service ${NS}/${SVC} (port 8000), Pod on ${app.ip}:${app.port}, Ingress ${NS}/${INGRESS}`);
    await bed.gke.start();
    const lb = await bed.loadBalancer(NS, INGRESS);

    const check = bed.checkName(NS, SVC, 8000);
    const livePath = async () => (await hcs.get({ project: bed.project, healthCheck: check }))[0].httpHealthCheck?.requestPath ?? '/';
    step(3, 'What GKE built: its ingress controller read no readinessProbe, so the check probes the default.');
    say(`      health check ${check}: requestPath "${await livePath()}"`);
    const broken = await until('the 502', async () => {
      const r = await httpGet(`http://${lb}/`);
      return r.status === 502 ? r : undefined;
    });
    say(`      GET http://${lb}/  →  ${broken.status} Bad Gateway   ← the bug: the backend is UNHEALTHY`);

    const cli = join(REPO_ROOT, 'dist/cli/main.js');
    step(4, `hcsync diagnose ingress ${INGRESS} -n ${NS}`);
    const diag = await promisify(execFile)(
      process.execPath,
      [
        cli,
        'diagnose',
        'ingress',
        INGRESS,
        '-n',
        NS,
        '--kubeconfig',
        bed.cp.kubeconfigPath,
        '--project',
        bed.project,
        '--gcp-api-endpoint',
        bed.compute.endpoint,
        '--log-level',
        'error',
      ],
      { env: { ...process.env } },
    ).catch((e: unknown) => ({ stdout: (e as { stdout?: string }).stdout ?? '', code: (e as { code?: number }).code }));
    for (const line of diag.stdout.trimEnd().split('\n')) say(`      ${line}`);
    say(`      (exit code ${'code' in diag ? String(diag.code) : '0'}: a backend has a problem)`);

    step(5, 'Starting hcsync (enforce), as its ServiceAccount with the ClusterRole from deploy/…');
    const hcsync = await bed.spawnHcsync(['run', '--resync', '10s', '--log-level', 'warn'], await bed.hcsyncKubeconfig());
    await until('the patch', async () => ((await livePath()) === '/health-check' ? true : undefined), 30_000);
    say(`      hcsync patched ${check}: requestPath "/" → "/health-check" (from the livenessProbe)`);
    const cond = await until('the condition', async () => {
      const c = await bed.serviceCondition(NS, SVC);
      return c?.reason === 'Patched' ? c : undefined;
    });
    say(`      Service condition HealthCheckInSync=${cond.status} reason=${cond.reason}`);
    const events = await bed.serviceEvents(NS, SVC);
    for (const e of events) say(`      Event ${e.type} ${e.reason}`);

    step(6, 'The Ingress load balancer now…');
    const fixed = await until(
      'the 200',
      async () => {
        const r = await httpGet(`http://${lb}/health-check`);
        return r.status === 200 ? r : undefined;
      },
      30_000,
    );
    say(`      GET http://${lb}/health-check  →  ${fixed.status} OK   (backend HEALTHY)`);
    say(`      hcsync_health_check_drift{service="${SVC}"} = ${await hcsync.metric('hcsync_health_check_drift', { service: SVC })}`);
    const code = await hcsync.stop();
    say(`      hcsync stopped on SIGTERM with exit code ${code}.`);
    const gatewayCode = await gatewayStory(bed, say);
    say('\nCleaning up…');
    return code === 0 && gatewayCode === 0 ? 0 : 1;
  } finally {
    await hcs.close();
    await bed.stop();
    say(`Done in ${((Date.now() - t0) / 1000).toFixed(1)} s; nothing left running.`);
  }
}

/**
 * The same gap on a GKE Gateway (docs/gke-gateway-healthchecks.md §1): GKE's Gateway controller
 * never reads probes, so without a HealthCheckPolicy its check probes "/". hcsync writes the policy
 * (never the check); GKE applies it.
 */
async function gatewayStory(bed: TestBed, say: (line?: string) => void): Promise<number> {
  const step = (n: number, text: string) => say(`\n[Gateway ${n}/4] ${text}`);
  const hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
  try {
    step(1, 'Installing the Gateway API (v1.6.3) and HealthCheckPolicy CRDs; GKE’s Gateway controller (stand-in) starts…');
    await bed.installGatewayApiCrds();
    await bed.installHealthCheckPolicyCrd();
    await bed.gateway.start();
    await bed.ensureNamespace(GW_NS);
    const app = await bed.startApp('127.0.0.11', ['/ready']);
    await bed.createService(GW_NS, GW_SVC, 80);
    await bed.createPod(GW_NS, `${GW_SVC}-1`, {
      ip: app.ip,
      port: app.port,
      labels: { app: GW_SVC },
      readinessProbe: { httpGet: { path: '/ready', port: app.port }, periodSeconds: 10, timeoutSeconds: 2 },
    });
    await bed.createGateway(GW_NS, GATEWAY, 'gke-l7-global-external-managed');
    await bed.createRoute(GW_NS, GW_SVC, GATEWAY, [{ service: GW_SVC, port: 80 }]);
    say(
      `      Service ${GW_NS}/${GW_SVC} (readinessProbe /ready; "/" answers 404), Gateway ${GATEWAY} (gke-l7-global-external-managed), HTTPRoute`,
    );

    const check = bed.gatewayCheckName(GW_NS, GW_SVC, 80);
    const livePath = async () => (await hcs.get({ project: bed.project, healthCheck: check }))[0].httpHealthCheck?.requestPath;
    step(2, 'What GKE built: its Gateway controller never reads probes; with no HealthCheckPolicy it probes "/".');
    await until('the gateway check', async () => ((await livePath().catch(() => undefined)) === '/' ? true : undefined));
    say(`      health check ${check}: requestPath "/"`);
    const lb = await bed.gatewayLoadBalancer(GW_NS, GATEWAY);
    await until('the 502', async () => ((await httpGet(`http://${lb}/ready`)).status === 502 ? true : undefined));
    say(`      GET http://${lb}/ready  →  502   ← every new Gateway backend whose app does not answer 200 on "/"`);

    step(3, 'Starting hcsync (enforce): it writes the HealthCheckPolicy GKE never infers…');
    // Its own Compute endpoint, so that its requests can be told from the stand-ins'.
    const hcsync = await bed.spawnHcsync(
      ['run', '--resync', '10s', '--log-level', 'warn'],
      await bed.hcsyncKubeconfig({ file: 'gateway.kubeconfig' }),
      { computeEndpoint: await bed.compute.endpointFor('hcsync-gateway') },
    );
    const policy = await until('the policy', () => bed.healthCheckPolicy(GW_NS, `hcsync-${GW_SVC}`), 30_000);
    const config = policy.spec.default?.['config'] as { type?: string; httpHealthCheck?: { requestPath?: string } } | undefined;
    say(
      `      HealthCheckPolicy ${GW_NS}/${policy.metadata.name} (managed-by ${policy.metadata.labels?.['app.kubernetes.io/managed-by'] ?? '?'}): ${config?.type ?? '?'} ${config?.httpHealthCheck?.requestPath ?? '?'}`,
    );
    await until('GKE applied it', async () => ((await livePath()) === '/ready' ? true : undefined), 30_000);
    say(`      GKE applied it: ${check} requestPath "/ready"`);

    step(4, 'The Gateway load balancer now…');
    await until('the 200', async () => ((await httpGet(`http://${lb}/ready`)).status === 200 ? true : undefined), 30_000);
    say(`      GET http://${lb}/ready  →  200 OK`);
    const cond = await until('the condition', async () => {
      const c = await bed.serviceCondition(GW_NS, GW_SVC);
      return c?.status === 'True' ? c : undefined;
    });
    say(`      Service condition HealthCheckInSync=${cond.status} reason=${cond.reason}`);
    for (const e of await bed.serviceEvents(GW_NS, GW_SVC)) say(`      Event ${e.type} ${e.reason}`);
    const computeWrites = bed.compute
      .requestLog()
      .filter((r) => /\.(insert|patch|update|delete)$/.test(r.api) && r.caller === 'hcsync-gateway').length;
    say(`      Compute writes by hcsync: ${computeWrites} (the policy is the supported way)`);
    const code = await hcsync.stop();
    say(`      hcsync stopped on SIGTERM with exit code ${code}.`);
    return code;
  } finally {
    await hcs.close();
  }
}

/**
 * Exits once stdout and stderr are flushed (on a pipe, writes are asynchronous), and so also
 * when a client library still holds a keep-alive socket.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runDemo().then(exitAfterFlush, (e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).stack ?? String(e)}\n`);
    exitAfterFlush(1);
  });
}
