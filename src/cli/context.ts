// What every command needs: a kubeconfig, the GCP project, the Compute adapter with metrics.
import type { KubeConfig } from '@kubernetes/client-node';
import { GoogleAuth } from 'google-auth-library';
import { ConfigError, type Config } from '../config/flags.js';
import { createComputeClients, endpointOptions, type ComputeClients } from '../gcp/clients.js';
import { ComputeAdapter } from '../gcp/compute-adapter.js';
import { SharedPoolKubeConfig } from '../kube/kubeconfig.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import type { AssessOptions } from '../plan/assess.js';

export function loadKubeConfig(config: Config): KubeConfig {
  const kc = new SharedPoolKubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster())
    throw new ConfigError('no Kubernetes cluster configured: pass --kubeconfig, set $KUBECONFIG, or run in a cluster');
  return kc;
}

/** --project, else the metadata server (only when talking to the real Compute API). */
async function resolveProject(config: Config): Promise<string> {
  if (config.project) return config.project;
  if (config.gcpApiEndpoint?.startsWith('http://')) throw new ConfigError('--project is required with an http:// --gcp-api-endpoint');
  try {
    return await new GoogleAuth().getProjectId();
  } catch (e) {
    throw new ConfigError(`--project not given and the GCP project could not be found from the environment: ${(e as Error).message}`);
  }
}

export interface GcpContext {
  readonly project: string;
  readonly clients: ComputeClients;
  readonly adapter: ComputeAdapter;
}

export async function gcpContext(config: Config, metrics?: Metrics): Promise<GcpContext> {
  const project = await resolveProject(config);
  const clients = createComputeClients(endpointOptions(config.gcpApiEndpoint));
  // Fail at start-up, not on the first call: a client that cannot authenticate would otherwise
  // surface as an unhandled rejection later (typescript-stack §6).
  await clients.healthChecks.initialize();
  const adapter = new ComputeAdapter(clients, project, (method, code, seconds) => {
    metrics?.gcpRequests.inc({ method, code: String(code) });
    metrics?.gcpRequestDuration.observe({ method }, seconds);
  });
  return { project, clients, adapter };
}

/** What assessment needs from the flags, and where it reports an unreadable Ingress. */
export function assessOptions(config: Config, log: Logger): AssessOptions {
  return {
    mode: config.mode,
    inferFromLiveness: config.inferFromLiveness,
    allowServiceEnforce: config.allowServiceEnforce,
    onUnreadableIngress: (ing, error) =>
      log.warn('unreadable ingress backends annotation', { namespace: ing.metadata.namespace, ingress: ing.metadata.name, error }),
  };
}
