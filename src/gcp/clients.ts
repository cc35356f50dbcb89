// Builds the Compute clients. Deep imports of the six clients hcsync uses keep start-up memory
// well below importing the package index (typescript-stack §10). Measured on an empty process
// (RSS after gc): client-node + the client modules 141 MiB; constructing the first client used to
// add ~105 MiB (a protobufjs Root of the package's whole 12 MB descriptor, Compute v1 and v1beta),
// the next ones ~0 (google-gax caches the Root). So each client is now built from one shared Root of
// only the services hcsync calls (proto-subset.ts), is constructed on first use (a cluster with no
// regional Ingress never builds the regional ones), and all share one auth client.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GoogleAuth, PassThroughClient } from 'google-auth-library';
import { HealthChecksClient } from '@google-cloud/compute/build/src/v1/health_checks_client.js';
import { RegionHealthChecksClient } from '@google-cloud/compute/build/src/v1/region_health_checks_client.js';
import { BackendServicesClient } from '@google-cloud/compute/build/src/v1/backend_services_client.js';
import { RegionBackendServicesClient } from '@google-cloud/compute/build/src/v1/region_backend_services_client.js';
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { RegionOperationsClient } from '@google-cloud/compute/build/src/v1/region_operations_client.js';
import { protoSubset, type ProtoNode } from './proto-subset.js';
import { withOwnDeadlines, type DeadlineError } from './call-deadline.js';

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
type Gax = NonNullable<ConstructorParameters<typeof HealthChecksClient>[1]>;

/** The services of protos.json the clients above serve; every one of them needs its own in the Root. */
const SERVICES = ['HealthChecks', 'RegionHealthChecks', 'BackendServices', 'RegionBackendServices', 'GlobalOperations', 'RegionOperations'];

// The google-gax and the descriptor the client modules themselves load (same module instances, so
// nothing is loaded twice), resolved from the Compute package rather than declared as our own.
const fromCompute = createRequire(createRequire(import.meta.url).resolve('@google-cloud/compute/build/src/v1/health_checks_client.js'));

/**
 * Every call's deadline (Compute's client configs: 600 s for each method; 60 s per attempt for the
 * retried, idempotent ones): Google's own per-attempt timeout (initial_rpc_timeout_millis: 60 s)
 * for every method, so a call to an endpoint that stopped answering fails within a minute, not ten.
 * Operation waits pass their own shorter timeout (compute-adapter.ts). The cap first bounded how
 * long gax's deadline signals kept finished calls (10,100 of them, ~100 MB, minutes after
 * converging at 5,000 Services); call-deadline.ts now frees a call as soon as it finishes.
 */
const RPC_TIMEOUT_MS = 60_000;

interface GapicConfig {
  interfaces: Record<string, { methods: Record<string, { timeout_millis?: number }> }>;
}

/** The client's own gapic config (`<file>_config.json`) with every method's timeout capped at RPC_TIMEOUT_MS. */
function cappedTimeouts(file: string): GapicConfig {
  const cfg = fromCompute(`./${file}_config.json`) as GapicConfig;
  const cap = (methods: GapicConfig['interfaces'][string]['methods']) =>
    Object.fromEntries(
      Object.entries(methods).map(([m, c]) => [m, { ...c, timeout_millis: Math.min(c.timeout_millis ?? RPC_TIMEOUT_MS, RPC_TIMEOUT_MS) }]),
    );
  return { interfaces: Object.fromEntries(Object.entries(cfg.interfaces).map(([svc, i]) => [svc, { ...i, methods: cap(i.methods) }])) };
}

let subsetGax: Gax | undefined;

/**
 * google-gax's REST fallback with two changes: `loadProtoJSON` (called by every client constructor
 * with the package's whole descriptor) returns one Root built once from the subset (the error path
 * of the clients' long-running calls rebuilds a Root from the whole descriptor through
 * `protobuf.Root.fromJSON`; that is answered from the subset too), and each service stub keeps its
 * calls' deadlines with timers that end with the call (call-deadline.ts).
 */
function computeGax(): Gax {
  if (subsetGax) return subsetGax;
  const gax = fromCompute('google-gax') as {
    fallback: Gax & { GrpcClient: new (o: unknown) => object; protobuf: ProtobufLike };
    GoogleError: new (message: string, options?: { cause?: unknown }) => Error & { code?: number };
    Status: { DEADLINE_EXCEEDED: number };
  };
  const full = fromCompute('../../protos/protos.json') as ProtoNode;
  const root = gax.fallback.protobuf.Root.fromJSON(protoSubset(full, 'google.cloud.compute.v1', SERVICES));
  decodeListPagesAsJson(root);
  const GrpcClient = gax.fallback.GrpcClient as new (o: unknown) => { createStub(...args: unknown[]): Promise<object> };
  class SubsetGrpcClient extends GrpcClient {
    loadProtoJSON(): unknown {
      return root;
    }
    async createStub(...args: unknown[]): Promise<object> {
      return withOwnDeadlines(await super.createStub(...args), deadlineExceeded);
    }
  }
  // What gax's stub reports when a deadline expires (fallbackServiceStub.js _toGoogleError).
  const deadlineExceeded: DeadlineError = (rpc, timeoutMs, cause) => {
    const err = new gax.GoogleError(`Deadline exceeded: ${rpc} did not respond within ${timeoutMs} milliseconds.`, { cause });
    err.code = gax.Status.DEADLINE_EXCEEDED;
    return err;
  };
  // Properties set with defineProperty: the module objects expose theirs as getters only.
  const Root = derive(gax.fallback.protobuf.Root, {
    fromJSON: (json: unknown) => (json === full ? root : gax.fallback.protobuf.Root.fromJSON(json)),
  });
  const fallback = derive(gax.fallback, { GrpcClient: SubsetGrpcClient, protobuf: derive(gax.fallback.protobuf, { Root }) });
  subsetGax = derive(gax, { fallback }) as Gax;
  return subsetGax;
}

/** What google-gax's REST decoder is handed: the method (a protobufjs Method of some Root), the outcome and the body. */
interface RestRpc {
  readonly name: string;
  readonly root?: unknown;
}
type DecodeResponse = (rpc: RestRpc, ok: boolean, body: ArrayBuffer, httpStatusCode?: number) => unknown;

/**
 * Successful aggregatedList pages of the clients built on `root` are handed on as the JSON the
 * Compute API sent, instead of google-gax's REST decoding (`fallbackRest.js decodeResponse`):
 * JSON.parse, then proto3-json-serializer's fromProto3JSON (every field checked against the
 * descriptor, int64s through Long), then `Type.fromObject` into message objects, then
 * `Type.toObject` back to plain objects with every default filled in. For a page of 500 checks or
 * backend services that is three full copies of the page and most of a steady resync's CPU
 * (measured at 5,000 Services: ~60 % of the lists' CPU, and the garbage the copies leave).
 * The REST API's JSON is already the plain-object shape toObject gives (lowerCamelCase names,
 * int64 as strings, enums as names), so the adapter reads it unchanged (compute-adapter.ts
 * coerces the numbers it reads, as proto3 JSON allows them quoted). Only these pages: errors,
 * GETs, patches and Operations keep gax's decoding. The decoder is a property of gax's module
 * object, read by its GrpcClient.createStub when a client is built: replaced once, before the
 * first client, and only for methods of this Root. Without that module property (a gax release
 * that moved it) nothing is replaced and lists are decoded by gax, only slower.
 */
function decodeListPagesAsJson(root: unknown): void {
  const rest = fromCompute(join(dirname(fromCompute.resolve('google-gax')), 'fallbackRest.js')) as { decodeResponse?: DecodeResponse };
  const gaxDecode = rest.decodeResponse;
  if (typeof gaxDecode !== 'function') return;
  const decoder = new TextDecoder();
  rest.decodeResponse = (rpc, ok, body, httpStatusCode) => {
    if (ok && rpc.name === 'AggregatedList' && rpc.root === root && body.byteLength > 0) return JSON.parse(decoder.decode(body)) as unknown;
    return gaxDecode(rpc, ok, body, httpStatusCode);
  };
}

/** An object that is `base` except for `overrides`. */
function derive(base: object, overrides: Record<string, unknown>): object {
  return Object.create(base, Object.fromEntries(Object.entries(overrides).map(([k, value]) => [k, { value, enumerable: true }]))) as object;
}

interface ProtobufLike {
  Root: { fromJSON(json: unknown): unknown };
}

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

/**
 * The six clients, each constructed the first time it is used (a regional one only once a regional
 * check, backend or Operation is seen), from one shared protobuf Root and one shared auth client
 * (`auth`/`authClient` in the options wins; otherwise one GoogleAuth with Compute's scopes, as each
 * client would build for itself). `close()` closes the ones constructed.
 */
export function createComputeClients(options: ClientOptions = {}): ComputeClients {
  const shared: ClientOptions =
    options.auth || options.authClient ? options : { ...options, auth: new GoogleAuth({ scopes: HealthChecksClient.scopes }) };
  const built = new Map<string, { close(): Promise<void> }>();
  const lazy = <C extends { close(): Promise<void> }>(name: string, make: (o: ClientOptions, gax: Gax) => C): (() => C) => {
    return () => {
      let c = built.get(name) as C | undefined;
      if (!c) {
        // Each client writes its own defaults into the options object: give each its own copy.
        const file = name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`) + '_client';
        c = make({ clientConfig: cappedTimeouts(file), ...shared }, computeGax());
        built.set(name, c);
      }
      return c;
    };
  };
  const healthChecks = lazy('healthChecks', (o, g) => new HealthChecksClient(o, g));
  const regionHealthChecks = lazy('regionHealthChecks', (o, g) => new RegionHealthChecksClient(o, g));
  const backendServices = lazy('backendServices', (o, g) => new BackendServicesClient(o, g));
  const regionBackendServices = lazy('regionBackendServices', (o, g) => new RegionBackendServicesClient(o, g));
  const globalOperations = lazy('globalOperations', (o, g) => new GlobalOperationsClient(o, g));
  const regionOperations = lazy('regionOperations', (o, g) => new RegionOperationsClient(o, g));
  return {
    get healthChecks() {
      return healthChecks();
    },
    get regionHealthChecks() {
      return regionHealthChecks();
    },
    get backendServices() {
      return backendServices();
    },
    get regionBackendServices() {
      return regionBackendServices();
    },
    get globalOperations() {
      return globalOperations();
    },
    get regionOperations() {
      return regionOperations();
    },
    async close() {
      await Promise.all([...built.values()].map((c) => c.close()));
    },
  };
}
