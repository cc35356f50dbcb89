// The real @google-cloud/compute clients the stand-in drives, pointed at any Compute endpoint
// (normally the local Compute stand-in over plain HTTP), plus the two things every write needs:
// waiting for the returned Operation and telling a 404 from other failures.
import {
  BackendServicesClient,
  GlobalOperationsClient,
  HealthChecksClient,
  NetworkEndpointGroupsClient,
  RegionBackendServicesClient,
  RegionHealthChecksClient,
  RegionOperationsClient,
  RegionUrlMapsClient,
  UrlMapsClient,
  ZoneOperationsClient,
  type protos,
} from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';

export type ComputeClientOptions = NonNullable<ConstructorParameters<typeof HealthChecksClient>[0]>;
type IOperation = protos.google.cloud.compute.v1.IOperation;

/** How long one write may take to reach DONE before the sync gives up on it. */
const WAIT_BUDGET_MS = 60_000;

/**
 * Options for an `http://127.0.0.1:PORT` endpoint: plain HTTP and a fixed fake token, so the
 * library neither looks for credentials nor probes the metadata server.
 */
export function clientOptionsForEndpoint(endpoint: string): ComputeClientOptions {
  const url = new URL(endpoint);
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'gke-ingress-stand-in', expiry_date: Date.now() + 24 * 3_600_000 });
  return {
    apiEndpoint: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol.replace(':', ''),
    authClient,
  };
}

export class ComputeClients {
  readonly healthChecks: HealthChecksClient;
  readonly regionHealthChecks: RegionHealthChecksClient;
  readonly backendServices: BackendServicesClient;
  readonly regionBackendServices: RegionBackendServicesClient;
  readonly negs: NetworkEndpointGroupsClient;
  readonly urlMaps: UrlMapsClient;
  readonly regionUrlMaps: RegionUrlMapsClient;
  private readonly globalOps: GlobalOperationsClient;
  private readonly regionOps: RegionOperationsClient;
  private readonly zoneOps: ZoneOperationsClient;

  constructor(options: ComputeClientOptions) {
    this.healthChecks = new HealthChecksClient(options);
    this.regionHealthChecks = new RegionHealthChecksClient(options);
    this.backendServices = new BackendServicesClient(options);
    this.regionBackendServices = new RegionBackendServicesClient(options);
    this.negs = new NetworkEndpointGroupsClient(options);
    this.urlMaps = new UrlMapsClient(options);
    this.regionUrlMaps = new RegionUrlMapsClient(options);
    this.globalOps = new GlobalOperationsClient(options);
    this.regionOps = new RegionOperationsClient(options);
    this.zoneOps = new ZoneOperationsClient(options);
  }

  /**
   * Waits for an Operation returned by a write, as ingress-gce's WaitForCompletion does. `wait`
   * may return before DONE, so it loops; DONE with `error` is a failure.
   */
  async wait(project: string, started: [{ latestResponse?: unknown }, ...unknown[]]): Promise<void> {
    let op = started[0].latestResponse as IOperation | undefined;
    const deadline = Date.now() + WAIT_BUDGET_MS;
    for (let i = 0; op !== undefined && op.status !== 'DONE'; i++) {
      if (Date.now() > deadline)
        throw new Error(`operation ${op.name ?? '?'} not DONE after ${WAIT_BUDGET_MS} ms (status ${String(op.status)})`);
      // A server whose wait returns early would otherwise be hammered.
      if (i > 0) await new Promise((r) => setTimeout(r, Math.min(10 * i, 500)));
      const name = op.name ?? '';
      if (op.zone) [op] = await this.zoneOps.wait({ project, zone: lastSegment(op.zone), operation: name });
      else if (op.region) [op] = await this.regionOps.wait({ project, region: lastSegment(op.region), operation: name });
      else [op] = await this.globalOps.wait({ project, operation: name });
    }
    const errors = op?.error?.errors ?? [];
    if (errors.length > 0) {
      const e = new Error(`operation ${op?.name ?? '?'} failed: ${errors.map((x) => `${x.code ?? ''} ${x.message ?? ''}`).join('; ')}`);
      (e as Error & { httpStatusCode?: number }).httpStatusCode = op?.httpErrorStatusCode ?? undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(
      [
        this.healthChecks,
        this.regionHealthChecks,
        this.backendServices,
        this.regionBackendServices,
        this.negs,
        this.urlMaps,
        this.regionUrlMaps,
        this.globalOps,
        this.regionOps,
        this.zoneOps,
      ].map((c) => c.close()),
    );
  }
}

function lastSegment(url: string): string {
  return (
    url
      .split('/')
      .filter((s) => s !== '')
      .pop() ?? url
  );
}

/** 404 in both error styles: compute 7 maps it to gRPC NOT_FOUND (5) and keeps the HTTP status. */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; httpStatusCode?: unknown; status?: unknown };
  return e.code === 5 || e.code === 404 || e.httpStatusCode === 404 || e.status === 404;
}

/** GCE's "being used by" 400, which ingress-gce ignores when deleting (utils.IsInUsedByError). */
export function isInUse(error: unknown): boolean {
  return error instanceof Error && /being used by|in use/i.test(error.message);
}

/** Compares resource links ignoring scheme, host and API version (utils.EqualResourceIDs). */
export function sameResource(a: string | null | undefined, b: string | null | undefined): boolean {
  const norm = (s: string | null | undefined): string => (s ?? '').replace(/^.*?\/projects\//, 'projects/').replace(/\/$/, '');
  return norm(a) !== '' && norm(a) === norm(b);
}
