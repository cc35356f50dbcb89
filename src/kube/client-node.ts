// The one module of hcsync that imports @kubernetes/client-node's values; everything else imports
// them from here (type-only imports may name the package). Why: the package's index loads all of
// its ~1,000 generated modules (every API group's classes three times over, ObservableAPI.js and
// PromiseAPI.js alone 14 MB of source), and V8 keeps every loaded module's source and function
// records for the life of the process. `npm run build` bundles this module with the parts of
// client-node (and its dependencies) these names reach (scripts/bundle-client-node.ts, esbuild
// tree-shaking, 3 MB): measured on an empty process importing hcsync's `run`, after a full GC,
// heap used 47 -> 31 MiB and RSS 152 -> 116 MiB (README, "How it works"). Tests run the sources,
// so against the package itself.
export {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ListWatch,
  NetworkingV1Api,
  Observable,
  PatchStrategy,
  RequestContext,
  V1MicroTime,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
export type { ConfigurationOptions, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
