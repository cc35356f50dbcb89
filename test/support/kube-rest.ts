// A minimal REST client for tests that need what client-node's typed and generic clients do not
// give: server-side apply with dryRun and strict field validation on arbitrary kinds (CRDs
// included) and the API server's Warning headers (Pod Security warnings arrive that way).
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './packaging-tools.js';

export interface RestResponse {
  status: number;
  body: unknown;
  warnings: string[];
}

/** Where each kind that deploy/ and crds/ ship lives in the API. */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { plural: 'serviceaccounts', namespaced: true },
  'v1/Service': { plural: 'services', namespaced: true },
  'v1/ConfigMap': { plural: 'configmaps', namespaced: true },
  'v1/Pod': { plural: 'pods', namespaced: true },
  'apps/v1/Deployment': { plural: 'deployments', namespaced: true },
  'policy/v1/PodDisruptionBudget': { plural: 'poddisruptionbudgets', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { plural: 'clusterrolebindings', namespaced: false },
  'rbac.authorization.k8s.io/v1/Role': { plural: 'roles', namespaced: true },
  'networking.k8s.io/v1/NetworkPolicy': { plural: 'networkpolicies', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { plural: 'rolebindings', namespaced: true },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': { plural: 'customresourcedefinitions', namespaced: false },
  'monitoring.coreos.com/v1/ServiceMonitor': { plural: 'servicemonitors', namespaced: true },
  'monitoring.coreos.com/v1/PrometheusRule': { plural: 'prometheusrules', namespaced: true },
  'cloud.google.com/v1/BackendConfig': { plural: 'backendconfigs', namespaced: true },
  'cloud.google.com/v1beta1/BackendConfig': { plural: 'backendconfigs', namespaced: true },
  'networking.gke.io/v1/HealthCheckPolicy': { plural: 'healthcheckpolicies', namespaced: true },
  'authorization.k8s.io/v1/SubjectAccessReview': { plural: 'subjectaccessreviews', namespaced: false },
};

function collectionPath(apiVersion: string, kind: string, namespace?: string): string {
  const r = RESOURCES[`${apiVersion}/${kind}`];
  if (!r) throw new Error(`test REST client does not know ${apiVersion} ${kind}: add it to RESOURCES`);
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (!r.namespaced) return `${prefix}/${r.plural}`;
  if (!namespace) throw new Error(`${kind} is namespaced but has no namespace`);
  return `${prefix}/namespaces/${namespace}/${r.plural}`;
}

function objectPath(o: KubeObject): string {
  return `${collectionPath(o.apiVersion, o.kind, o.metadata.namespace)}/${o.metadata.name}`;
}

export class KubeRest {
  private readonly server: URL;
  private readonly ca: string;
  private readonly token: string;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    if (!cluster?.caData || !user?.token) throw new Error('KubeRest needs a kubeconfig with CA data and a bearer token');
    this.server = new URL(cluster.server);
    if (this.server.hostname !== '127.0.0.1') throw new Error('tests talk to the loopback test bed only');
    this.ca = Buffer.from(cluster.caData, 'base64').toString('utf8');
    this.token = user.token;
  }

  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RestResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.server.hostname,
          port: this.server.port,
          method,
          path,
          ca: this.ca,
          timeout: 30_000,
          headers: {
            Authorization: `Bearer ${this.token}`,
            Accept: 'application/json',
            ...(payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // keep text
            }
            const raw = res.headers.warning;
            const warnings = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
            resolve({ status: res.statusCode ?? 0, body: parsed, warnings });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Server-side apply; dryRun sends dryRun=All. Unknown or duplicate fields are errors. */
  apply(o: KubeObject, opts: { dryRun: boolean }): Promise<RestResponse> {
    const q = new URLSearchParams({ fieldManager: 'hcsync-manifests-test', force: 'true', fieldValidation: 'Strict' });
    if (opts.dryRun) q.set('dryRun', 'All');
    return this.request('PATCH', `${objectPath(o)}?${q.toString()}`, o, 'application/apply-patch+yaml');
  }

  /** Create (POST); dryRun sends dryRun=All. */
  create(o: KubeObject, opts: { dryRun: boolean }): Promise<RestResponse> {
    const q = new URLSearchParams({ fieldValidation: 'Strict' });
    if (opts.dryRun) q.set('dryRun', 'All');
    return this.request('POST', `${collectionPath(o.apiVersion, o.kind, o.metadata.namespace)}?${q.toString()}`, o);
  }

  get(path: string): Promise<RestResponse> {
    return this.request('GET', path);
  }
}

export function describeFailure(o: KubeObject, r: RestResponse): string {
  const message = typeof r.body === 'object' && r.body !== null && 'message' in r.body ? String(r.body.message) : JSON.stringify(r.body);
  return `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: HTTP ${r.status}: ${message}`;
}
