// One read of the cluster for the one-shot commands (plan, diagnose): plain lists, slimmed.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, NetworkingV1Api } from './client-node.js';
import { backoffDelay } from '../lib/backoff.js';
import { StaticClusterView } from './cluster-view.js';
import {
  slimBackendConfig,
  slimGateway,
  slimGatewayClass,
  slimHealthCheckPolicy,
  slimIngress,
  slimPod,
  slimReferenceGrant,
  slimRoute,
  slimService,
} from './slim.js';
import { BACKENDCONFIG } from './cluster-state.js';
import { GATEWAY_KINDS, HEALTHCHECKPOLICY } from './gateway-state.js';

/**
 * Retries what the API server asks to be retried — 429 (e.g. "storage is (re)initializing" just
 * after a CRD appears, or API priority and fairness) and 5xx — as client-go does, a few times.
 */
const RETRY_BACKOFF = { baseMs: 400, maxMs: 10_000 } as const;

async function withRetry<T>(read: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (e) {
      const code = (e as { code?: number }).code ?? 0;
      if (i >= attempts || !(code === 429 || code >= 500)) throw e;
      const retryAfter = Number((e as { headers?: Record<string, string> }).headers?.['retry-after']);
      await new Promise((r) =>
        setTimeout(r, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoffDelay(RETRY_BACKOFF, i - 1)),
      );
    }
  }
}

export async function loadSnapshot(kc: KubeConfig, namespace?: string): Promise<StaticClusterView> {
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  // A kind whose CRD is not installed (404) has no objects; a GatewayClass list refused (403, a
  // namespaced install) is "cannot be read", so the gke-l7- class name decides (contract).
  const optional = (api: { group: string; version: string; plural: string }, clusterScoped = false) =>
    withRetry(() =>
      namespace && !clusterScoped ? custom.listNamespacedCustomObject({ ...api, namespace }) : custom.listClusterCustomObject(api),
    ).then(
      (r) => (r as { items?: unknown[] }).items ?? [],
      (e: unknown) => {
        const code = (e as { code?: number }).code;
        if (code === 404 || (clusterScoped && code === 403)) return [];
        throw e;
      },
    );
  const gatewayLists = Promise.all([
    optional(GATEWAY_KINDS.gatewayclasses, true),
    optional(GATEWAY_KINDS.gateways),
    optional(GATEWAY_KINDS.httproutes),
    optional(GATEWAY_KINDS.grpcroutes),
    optional(GATEWAY_KINDS.referencegrants),
    optional(HEALTHCHECKPOLICY),
  ]);
  const coreLists = Promise.all([
    withRetry(() => (namespace ? core.listNamespacedService({ namespace }) : core.listServiceForAllNamespaces())),
    withRetry(() => (namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces())),
    withRetry(() => (namespace ? net.listNamespacedIngress({ namespace }) : net.listIngressForAllNamespaces())),
    withRetry(() =>
      namespace ? custom.listNamespacedCustomObject({ ...BACKENDCONFIG, namespace }) : custom.listClusterCustomObject(BACKENDCONFIG),
    ).then(
      (r) => (r as { items?: unknown[] }).items ?? [],
      // A cluster without the BackendConfig CRD has none.
      (e: unknown) => {
        if ((e as { code?: number }).code === 404) return [];
        throw e;
      },
    ),
  ]);
  // Read at the same time; one failure fails the snapshot (after the other reads settle).
  const [[services, pods, ingresses, backendConfigs], [classes, gateways, httpRoutes, grpcRoutes, grants, policies]] = await Promise.all([
    coreLists,
    gatewayLists,
  ]);
  return new StaticClusterView({
    services: services.items.map(slimService),
    pods: pods.items.map(slimPod),
    ingresses: ingresses.items.map(slimIngress),
    backendConfigs: backendConfigs.map(slimBackendConfig),
    gatewayClasses: classes.map(slimGatewayClass),
    gateways: gateways.map(slimGateway),
    routes: [...httpRoutes.map(slimRoute('HTTPRoute')), ...grpcRoutes.map(slimRoute('GRPCRoute'))],
    referenceGrants: grants.map(slimReferenceGrant),
    policies: policies.map(slimHealthCheckPolicy),
  });
}
