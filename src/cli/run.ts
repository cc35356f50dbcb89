// `hcsync run`: the controller. Every replica watches; once its caches have synced, it campaigns
// for the Lease, and the leader (or the only replica, without --leader-elect) reconciles. Every
// write is fenced on leadership (controller/fence.ts). SIGTERM — at any point, start-up included —
// stops taking work, drops queued writes, gives in-flight reconciles a bounded time, releases
// the Lease if held, closes the servers and exits 0. An unhandled rejection or uncaught exception
// is logged, the Lease released, and the process exits 1 (a restart is cleaner than a process in
// an unknown state).
import type { Server } from 'node:http';
import type { Config } from '../config/flags.js';
import { Controller } from '../controller/controller.js';
import { LeaderElector, defaultIdentity } from '../kube/leader-election.js';
import { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { closeServer, listen, metricsRoutes, probeRoutes } from '../server/http.js';
import { KubeReviews, MetricsAuth } from '../server/metrics-auth.js';
import { gcpContext, loadKubeConfig, type GcpContext } from './context.js';
import { startMemoryDebug } from './memory-debug.js';
import { startMemoryTrim } from './memory-trim.js';

/** After a crash, the Lease release and clean-up get this long before the process exits anyway. */
const CRASH_EXIT_BUDGET_MS = 5_000;

export async function runController(config: Config, log: Logger): Promise<number> {
  const identity = defaultIdentity();
  let controller: Controller | undefined;
  let elector: LeaderElector | undefined;
  let gcp: GcpContext | undefined;
  const metrics = new Metrics();
  const servers: Server[] = [];
  // RSS back down to the live data once a burst (start-up, converging, a resync) is over, and never
  // while the controller has work (it is read at each check: undefined until it exists).
  const stopMemoryTrim = startMemoryTrim(log, () => controller?.busyWith());
  // Debug only (HCSYNC_DEBUG_MEMORY=<seconds>, never set by the shipped manifests): where RSS goes.
  const stopMemoryDebug = startMemoryDebug(log);
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  // An object, not a let: TypeScript would narrow a local flag across the awaits below, but
  // shutdown() may set it at any await (a signal).
  const state = { shuttingDown: false };

  const shutdown = async (why: string, code: number) => {
    if (state.shuttingDown) return;
    state.shuttingDown = true;
    stopMemoryTrim();
    stopMemoryDebug();
    log.info('shutting down', { why });
    try {
      await controller?.stop();
      await elector?.stop({ release: true });
      metrics.leader.set(0);
      await Promise.all(servers.map(closeServer));
      await gcp?.clients.close();
    } catch (err) {
      log.error('error while shutting down', { error: (err as Error).message });
      code = code || 1;
    }
    resolveExit(code);
  };
  const onSignal = (signal: string) => () => void shutdown(signal, 0);
  // A bug that escapes every handler: say so, stop writing, release the Lease, exit non-zero.
  const onCrash = (kind: string) => (err: unknown) => {
    log.error(`${kind}; releasing the Lease and exiting`, {
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
      identity,
    });
    controller?.stepDown(kind);
    setTimeout(() => resolveExit(1), CRASH_EXIT_BUDGET_MS); // if clean-up hangs
    void shutdown(kind, 1);
  };
  const handlers: [string, (err: unknown) => void][] = [
    ['SIGTERM', onSignal('SIGTERM')],
    ['SIGINT', onSignal('SIGINT')],
    ['unhandledRejection', onCrash('unhandled promise rejection')],
    ['uncaughtException', onCrash('uncaught exception')],
  ];
  // First thing: a SIGTERM during start-up (while caches sync, before leadership) must still
  // release what was taken and exit 0, not kill the process mid-way.
  for (const [event, handler] of handlers) process.on(event, handler);
  void exited.then(() => {
    for (const [event, handler] of handlers) process.off(event, handler);
  });

  try {
    const kc = loadKubeConfig(config);
    gcp = await gcpContext(config, metrics);
    log.info('starting hcsync', {
      project: gcp.project,
      mode: config.mode,
      namespaces: config.namespaces,
      identity,
      cluster: kc.getCurrentCluster()?.server,
    });
    if (config.leaderElect) {
      elector = new LeaderElector({
        kubeConfig: kc,
        namespace: config.leaderElectionNamespace,
        name: config.leaderElectionId,
        identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        log,
      });
    }
    const leading = elector;
    controller = new Controller({
      kc,
      config,
      api: gcp.adapter,
      metrics,
      log,
      identity,
      ...(leading ? { isLeader: () => leading.isLeader() } : {}),
    });
    const c = controller;
    const probes = { ready: () => c.ready() };
    const metricsAuth = config.metricsAuth ? new MetricsAuth(new KubeReviews(kc)) : undefined;
    if (config.metricsAuth) log.info('/metrics requires a bearer token allowed to get /metrics (TokenReview, SubjectAccessReview)');
    if (config.metricsAddr === config.healthAddr) {
      servers.push(
        await listen('metrics-addr', config.metricsAddr, { ...metricsRoutes(metrics.registry, metricsAuth), ...probeRoutes(probes) }),
      );
    } else {
      servers.push(await listen('metrics-addr', config.metricsAddr, metricsRoutes(metrics.registry, metricsAuth)));
      servers.push(await listen('health-addr', config.healthAddr, probeRoutes(probes)));
    }
    if (state.shuttingDown) {
      // SIGTERM came while the servers were starting: shutdown() ran before they existed.
      await Promise.all(servers.map(closeServer));
      return await exited;
    }

    await controller.startWatching();
    // Campaign only with synced caches: a replica that cannot list (403, 5xx) must not hold the
    // Lease and keep a healthy standby from leading.
    // False once shutdown began (it stops the controller first); no await between here and run().
    if (!(await controller.waitForCacheSync())) return await exited;
    log.info('informer caches synced', {});

    if (leading) {
      leading.run({
        onStartedLeading: () => {
          metrics.leader.set(1);
          log.info('became leader', { identity });
          void c.startWorking();
        },
        // client-go's convention: a replica that lost the Lease exits and restarts clean, so two
        // replicas never act on stale assumptions at once. Its writes stop first (step-down).
        onStoppedLeading: () => {
          metrics.leader.set(0);
          c.stepDown('lost leadership');
          if (state.shuttingDown) return;
          log.warn('lost leadership; exiting', { identity });
          void shutdown('lost leadership', 1);
        },
      });
    } else {
      metrics.leader.set(1);
      await controller.startWorking();
    }
  } catch (err) {
    if (!state.shuttingDown) {
      await shutdown('start-up failed', 1);
      throw err;
    }
  }
  return exited;
}
