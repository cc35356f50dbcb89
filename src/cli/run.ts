// `hcsync run`: the controller. Every replica watches; the leader (or the only replica, without
// --leader-elect) reconciles. SIGTERM stops taking work, lets in-flight patches finish, releases
// the Lease and exits 0.
import type { Server } from 'node:http';
import type { Config } from '../config/flags.js';
import { Controller } from '../controller/controller.js';
import { LeaderElector, defaultIdentity } from '../kube/leader-election.js';
import { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { closeServer, listen, metricsRoutes, probeRoutes } from '../server/http.js';
import { KubeReviews, MetricsAuth } from '../server/metrics-auth.js';
import { gcpContext, loadKubeConfig } from './context.js';

export async function runController(config: Config, log: Logger): Promise<number> {
  const kc = loadKubeConfig(config);
  const metrics = new Metrics();
  const gcp = await gcpContext(config, metrics);
  const identity = defaultIdentity();
  log.info('starting hcsync', {
    project: gcp.project,
    mode: config.mode,
    namespaces: config.namespaces,
    identity,
    cluster: kc.getCurrentCluster()?.server,
  });

  const controller = new Controller({ kc, config, api: gcp.adapter, metrics, log, identity });
  const servers: Server[] = [];
  const probes = { ready: () => controller.ready() };
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

  let elector: LeaderElector | undefined;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let shuttingDown = false;
  const shutdown = async (why: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info('shutting down', { why });
    await controller.stop();
    await elector?.stop({ release: true });
    metrics.leader.set(0);
    await Promise.all(servers.map(closeServer));
    await gcp.clients.close();
    resolveExit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));

  await controller.startWatching();
  log.info('informer caches started', { synced: controller.cluster.hasSynced() });
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
    elector.run({
      onStartedLeading: () => {
        metrics.leader.set(1);
        log.info('became leader', { identity });
        void controller.startWorking();
      },
      // client-go's convention: a replica that lost the Lease exits and restarts clean, so two
      // replicas never act on stale assumptions at once.
      onStoppedLeading: () => {
        metrics.leader.set(0);
        log.warn('lost leadership; exiting', { identity });
        void shutdown('lost leadership', 1);
      },
    });
  } else {
    metrics.leader.set(1);
    await controller.startWorking();
  }
  return exited;
}
