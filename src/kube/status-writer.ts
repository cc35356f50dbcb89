// Writes the HealthCheckInSync condition through services/status with server-side apply, so
// hcsync owns only its own condition and never clobbers conditions other controllers set. The
// resourceVersion the write produced is handed to `onWritten`, so the watch event that echoes the
// write is known as hcsync's own and does not trigger another reconcile (ClusterState.ownStatusWritten).
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from './client-node.js';
import type { SlimCondition, SlimService } from '../model/kube.js';
import type { StatusWriter } from '../model/ports.js';

const FIELD_MANAGER = 'hcsync';

export class ServiceStatusWriter implements StatusWriter {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly onWritten?: (service: SlimService, resourceVersion: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async writeCondition(service: SlimService, condition: SlimCondition): Promise<void> {
    const written = await this.core.patchNamespacedServiceStatus(
      {
        namespace: service.metadata.namespace,
        name: service.metadata.name,
        fieldManager: FIELD_MANAGER,
        force: true,
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: service.metadata.name, namespace: service.metadata.namespace },
          status: { conditions: [condition] },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    const rv = written.metadata?.resourceVersion;
    if (rv) this.onWritten?.(service, rv);
  }
}
