// The Compute calls both GKE stand-ins (gke-ingress/, gke-gateway/) make, global or regional
// alike: get (undefined on a 404), insert / update / delete waiting for the Operation, a zonal NEG
// and its endpoints, a URL map, and the garbage collection of what a stand-in owns; and the sync
// loop both run. Test-bed code only: the two stand-ins share it with each other, never with src/
// (they must not agree with hcsync by construction).
import type { V1Pod } from '@kubernetes/client-node';
import type { protos } from '@google-cloud/compute';
import { isInUse, isNotFound, type ComputeClients } from './gke-ingress/compute-clients.js';

type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IUrlMap = protos.google.cloud.compute.v1.IUrlMap;

/** Async iterators page by themselves; saying so stops gax's AutopaginateTrueWarning. */
const NO_AUTOPAGINATE = { autoPaginate: false } as const;

type Log = (message: string, fields?: Record<string, unknown>) => void;

/** One network endpoint of a NEG. */
export interface Endpoint {
  readonly ipAddress: string;
  readonly port: number;
}

/** What a garbage collection keeps: `g/name` or `r/name` of the wanted URL maps and backend services. */
export interface Collect {
  readonly wantUrlMaps: ReadonlySet<string>;
  readonly wantBackends: ReadonlySet<string>;
  /** Whether this stand-in made a URL map / backend service of that name (others are left alone). */
  readonly ownsUrlMap: (name: string) => boolean;
  readonly ownsBackend: (name: string) => boolean;
  /** Whether a collected backend's NEG of the same name goes too. */
  readonly deleteNeg: (name: string) => boolean;
}

/** 404 is "nothing there": undefined instead of an error. */
async function orUndefined<T>(get: () => Promise<[T, ...unknown[]]>): Promise<T | undefined> {
  try {
    return (await get())[0];
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A delete that finds nothing, or a resource still in use, is not an error (ingress-gce ignores both). */
async function quietly(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isNotFound(e) && !isInUse(e)) throw e;
  }
}

/** The Compute resources of one project, region and zone, as a GKE controller writes them. */
export class GkeCompute {
  constructor(
    readonly gce: ComputeClients,
    private readonly at: { readonly project: string; readonly region: string; readonly zone: string },
  ) {}

  getHealthCheck(name: string, regional: boolean): Promise<IHealthCheck | undefined> {
    const { project, region } = this.at;
    return orUndefined(() =>
      regional
        ? this.gce.regionHealthChecks.get({ project, region, healthCheck: name })
        : this.gce.healthChecks.get({ project, healthCheck: name }),
    );
  }

  async insertHealthCheck(resource: IHealthCheck, regional: boolean): Promise<void> {
    const { project, region } = this.at;
    await this.gce.wait(
      project,
      regional
        ? await this.gce.regionHealthChecks.insert({ project, region, healthCheckResource: resource })
        : await this.gce.healthChecks.insert({ project, healthCheckResource: resource }),
    );
  }

  /** A full PUT, as ingress-gce and GKE's Gateway controller send. */
  async updateHealthCheck(name: string, resource: IHealthCheck, regional: boolean): Promise<void> {
    const { project, region } = this.at;
    await this.gce.wait(
      project,
      regional
        ? await this.gce.regionHealthChecks.update({ project, region, healthCheck: name, healthCheckResource: resource })
        : await this.gce.healthChecks.update({ project, healthCheck: name, healthCheckResource: resource }),
    );
  }

  async deleteHealthCheck(name: string, regional: boolean): Promise<void> {
    const { project, region } = this.at;
    await this.gce.wait(
      project,
      regional
        ? await this.gce.regionHealthChecks.delete({ project, region, healthCheck: name })
        : await this.gce.healthChecks.delete({ project, healthCheck: name }),
    );
  }

  getBackendService(name: string, regional: boolean): Promise<IBackendService | undefined> {
    const { project, region } = this.at;
    return orUndefined(() =>
      regional
        ? this.gce.regionBackendServices.get({ project, region, backendService: name })
        : this.gce.backendServices.get({ project, backendService: name }),
    );
  }

  async insertBackendService(resource: IBackendService, regional: boolean): Promise<void> {
    const { project, region } = this.at;
    await this.gce.wait(
      project,
      regional
        ? await this.gce.regionBackendServices.insert({ project, region, backendServiceResource: resource })
        : await this.gce.backendServices.insert({ project, backendServiceResource: resource }),
    );
  }

  async updateBackendService(name: string, resource: IBackendService, regional: boolean): Promise<void> {
    const { project, region } = this.at;
    await this.gce.wait(
      project,
      regional
        ? await this.gce.regionBackendServices.update({ project, region, backendService: name, backendServiceResource: resource })
        : await this.gce.backendServices.update({ project, backendService: name, backendServiceResource: resource }),
    );
  }

  /** Creates the URL map, or updates it (with the live fingerprint) when its services or rules differ. */
  async ensureUrlMap(want: IUrlMap & { name: string }, regional: boolean): Promise<void> {
    const { project, region } = this.at;
    const live = await orUndefined(() =>
      regional ? this.gce.regionUrlMaps.get({ project, region, urlMap: want.name }) : this.gce.urlMaps.get({ project, urlMap: want.name }),
    );
    if (live === undefined) {
      await this.gce.wait(
        project,
        regional
          ? await this.gce.regionUrlMaps.insert({ project, region, urlMapResource: want })
          : await this.gce.urlMaps.insert({ project, urlMapResource: want }),
      );
    } else if (!sameUrlMap(live, want)) {
      const resource: IUrlMap = { ...want, fingerprint: live.fingerprint ?? null };
      await this.gce.wait(
        project,
        regional
          ? await this.gce.regionUrlMaps.update({ project, region, urlMap: want.name, urlMapResource: resource })
          : await this.gce.urlMaps.update({ project, urlMap: want.name, urlMapResource: resource }),
      );
    }
  }

  /** The zonal NEG of that name (GCE_VM_IP_PORT on the default network), created when missing; its selfLink. */
  async ensureNeg(name: string, description: string): Promise<string> {
    const { project, zone } = this.at;
    const get = () => orUndefined(() => this.gce.negs.get({ project, zone, networkEndpointGroup: name }));
    const have = await get();
    if (have) return have.selfLink ?? name;
    await this.gce.wait(
      project,
      await this.gce.negs.insert({
        project,
        zone,
        networkEndpointGroupResource: {
          name,
          networkEndpointType: 'GCE_VM_IP_PORT',
          network: `projects/${project}/global/networks/default`,
          description,
        },
      }),
    );
    return (await get())?.selfLink ?? name;
  }

  /** Detaches the NEG's endpoints not wanted, then attaches the wanted ones it lacks. */
  async syncNegEndpoints(name: string, want: ReadonlyMap<string, Endpoint>): Promise<void> {
    const { project, zone } = this.at;
    const have = new Map<string, Endpoint>();
    for await (const e of this.gce.negs.listNetworkEndpointsAsync(
      { project, zone, networkEndpointGroup: name, networkEndpointGroupsListEndpointsRequestResource: {} },
      NO_AUTOPAGINATE,
    )) {
      const ep = e.networkEndpoint;
      if (ep?.ipAddress && ep.port) have.set(`${ep.ipAddress}:${ep.port}`, { ipAddress: ep.ipAddress, port: ep.port });
    }
    const detach = [...have].filter(([k]) => !want.has(k)).map(([, v]) => v);
    const attach = [...want].filter(([k]) => !have.has(k)).map(([, v]) => v);
    if (detach.length > 0) {
      await this.gce.wait(
        project,
        await this.gce.negs.detachNetworkEndpoints({
          project,
          zone,
          networkEndpointGroup: name,
          networkEndpointGroupsDetachEndpointsRequestResource: { networkEndpoints: detach },
        }),
      );
    }
    if (attach.length > 0) {
      await this.gce.wait(
        project,
        await this.gce.negs.attachNetworkEndpoints({
          project,
          zone,
          networkEndpointGroup: name,
          networkEndpointGroupsAttachEndpointsRequestResource: { networkEndpoints: attach },
        }),
      );
    }
  }

  /**
   * Deletes the URL maps, then the backend services (with their health check of the same name, and
   * the NEG when `deleteNeg` says so) that this stand-in owns and no longer wants, global and regional.
   */
  async collect(c: Collect, log: Log): Promise<void> {
    const { project, region, zone } = this.at;
    for (const regional of [false, true]) {
      const maps = regional
        ? this.gce.regionUrlMaps.listAsync({ project, region }, NO_AUTOPAGINATE)
        : this.gce.urlMaps.listAsync({ project }, NO_AUTOPAGINATE);
      const doomed: string[] = [];
      for await (const um of maps) {
        const name = um.name ?? '';
        if (c.ownsUrlMap(name) && !c.wantUrlMaps.has(`${regional ? 'r' : 'g'}/${name}`)) doomed.push(name);
      }
      for (const name of doomed) {
        log('deleting URL map', { url_map: name });
        await quietly(async () =>
          this.gce.wait(
            project,
            regional
              ? await this.gce.regionUrlMaps.delete({ project, region, urlMap: name })
              : await this.gce.urlMaps.delete({ project, urlMap: name }),
          ),
        );
      }
    }
    for (const regional of [false, true]) {
      const list = regional
        ? this.gce.regionBackendServices.listAsync({ project, region }, NO_AUTOPAGINATE)
        : this.gce.backendServices.listAsync({ project }, NO_AUTOPAGINATE);
      const doomed: string[] = [];
      for await (const bs of list) {
        const name = bs.name ?? '';
        if (c.ownsBackend(name) && !c.wantBackends.has(`${regional ? 'r' : 'g'}/${name}`)) doomed.push(name);
      }
      for (const name of doomed) {
        log('deleting backend', { backend_service: name });
        await quietly(async () =>
          this.gce.wait(
            project,
            regional
              ? await this.gce.regionBackendServices.delete({ project, region, backendService: name })
              : await this.gce.backendServices.delete({ project, backendService: name }),
          ),
        );
        await quietly(() => this.deleteHealthCheck(name, regional));
        if (c.deleteNeg(name)) {
          await quietly(async () => this.gce.wait(project, await this.gce.negs.delete({ project, zone, networkEndpointGroup: name })));
        }
      }
    }
  }
}

/** Whether two URL maps send the same hosts and paths to the same services (links compared without scheme, host and version). */
function sameUrlMap(a: IUrlMap, b: IUrlMap): boolean {
  const strip = (s: string | null | undefined): string => (s ?? '').replace(/^.*?\/projects\//, 'projects/');
  const norm = (u: IUrlMap): string =>
    JSON.stringify({
      d: strip(u.defaultService),
      h: (u.hostRules ?? []).map((h) => ({ hosts: h.hosts ?? [], m: h.pathMatcher ?? '' })),
      p: (u.pathMatchers ?? []).map((m) => ({
        n: m.name ?? '',
        d: strip(m.defaultService),
        r: (m.pathRules ?? []).map((r) => ({ p: r.paths ?? [], s: strip(r.service) })),
      })),
    });
  return norm(a) === norm(b);
}

/** A NEG's endpoints for the Pods a Service selects: each with an IP and not terminating, at the target port (number or container port name). */
export function podEndpoints(selected: readonly V1Pod[], target: number | string): Map<string, Endpoint> {
  const want = new Map<string, Endpoint>();
  for (const pod of selected) {
    const ip = pod.status?.podIP;
    if (ip === undefined || ip === '' || pod.metadata?.deletionTimestamp !== undefined) continue;
    const port =
      typeof target === 'number'
        ? target
        : (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
    if (port !== undefined) want.set(`${ip}:${port}`, { ipAddress: ip, port });
  }
  return want;
}

/**
 * A stand-in's sync loop: one sync at a time (a sync asked for while one runs starts after it),
 * a first one at start(), then one every `periodMs` until stop().
 */
export class SyncLoop<R> {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly syncOnce: () => Promise<R>,
    private readonly periodMs: number,
    private readonly onPeriodicError: (e: unknown) => void,
  ) {}

  async start(): Promise<R> {
    this.stopped = false;
    const report = await this.syncNow();
    this.schedule();
    return report;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.syncNow()
        .catch(this.onPeriodicError)
        .finally(() => this.schedule());
    }, this.periodMs);
    this.timer.unref();
  }

  /** One full sync, after any sync already running. */
  syncNow(): Promise<R> {
    return this.serialized(this.syncOnce);
  }

  /** Runs `fn` after any sync already running, and before any asked for later. */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** No more periodic syncs; waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain;
  }
}
