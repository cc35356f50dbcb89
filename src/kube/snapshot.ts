// One read of the cluster for the one-shot commands (plan, diagnose): plain lists, slimmed.
import { CoreV1Api, CustomObjectsApi, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { StaticClusterView } from './cluster-view.js';
import { slimBackendConfig, slimIngress, slimPod, slimService } from './slim.js';
import { BACKENDCONFIG } from './cluster-state.js';

export async function loadSnapshot(kc: KubeConfig, namespace?: string): Promise<StaticClusterView> {
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const [services, pods, ingresses, backendConfigs] = await Promise.all([
    namespace ? core.listNamespacedService({ namespace }) : core.listServiceForAllNamespaces(),
    namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces(),
    namespace ? net.listNamespacedIngress({ namespace }) : net.listIngressForAllNamespaces(),
    (namespace ? custom.listNamespacedCustomObject({ ...BACKENDCONFIG, namespace }) : custom.listClusterCustomObject(BACKENDCONFIG)).then(
      (r) => (r as { items?: unknown[] }).items ?? [],
      // A cluster without the BackendConfig CRD has none.
      (e: unknown) => {
        if ((e as { code?: number }).code === 404) return [];
        throw e;
      },
    ),
  ]);
  return new StaticClusterView({
    services: services.items.map(slimService),
    pods: pods.items.map(slimPod),
    ingresses: ingresses.items.map(slimIngress),
    backendConfigs: backendConfigs.map(slimBackendConfig),
  });
}
