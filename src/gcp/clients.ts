// Builds the Compute clients. Deep imports of the six clients hcsync uses keep start-up memory
// well below importing the package index (typescript-stack §10).
import { PassThroughClient } from 'google-auth-library';
import { HealthChecksClient } from '@google-cloud/compute/build/src/v1/health_checks_client.js';
import { RegionHealthChecksClient } from '@google-cloud/compute/build/src/v1/region_health_checks_client.js';
import { BackendServicesClient } from '@google-cloud/compute/build/src/v1/backend_services_client.js';
import { RegionBackendServicesClient } from '@google-cloud/compute/build/src/v1/region_backend_services_client.js';
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { RegionOperationsClient } from '@google-cloud/compute/build/src/v1/region_operations_client.js';

export interface ComputeClients {
  readonly healthChecks: HealthChecksClient;
  readonly regionHealthChecks: RegionHealthChecksClient;
  readonly backendServices: BackendServicesClient;
  readonly regionBackendServices: RegionBackendServicesClient;
  readonly globalOperations: GlobalOperationsClient;
  readonly regionOperations: RegionOperationsClient;
  close(): Promise<void>;
}

type ClientOptions = ConstructorParameters<typeof HealthChecksClient>[0];

/**
 * Options for an endpoint override. An `http://` endpoint is a local stand-in: no credentials
 * are sent and the metadata server is never asked. An `https://` one keeps the normal auth chain.
 */
export function endpointOptions(endpoint: string | undefined): ClientOptions {
  if (!endpoint) return {};
  const url = new URL(endpoint);
  if (url.protocol === 'http:') {
    const port = Number(url.port || 80);
    return { apiEndpoint: url.hostname, port, protocol: 'http', fallback: true, authClient: new PassThroughClient() };
  }
  return { apiEndpoint: url.hostname, ...(url.port ? { port: Number(url.port) } : {}) };
}

export function createComputeClients(options: ClientOptions): ComputeClients {
  const clients = {
    healthChecks: new HealthChecksClient(options),
    regionHealthChecks: new RegionHealthChecksClient(options),
    backendServices: new BackendServicesClient(options),
    regionBackendServices: new RegionBackendServicesClient(options),
    globalOperations: new GlobalOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
  };
  return {
    ...clients,
    async close() {
      await Promise.all(Object.values(clients).map((c) => c.close()));
    },
  };
}
