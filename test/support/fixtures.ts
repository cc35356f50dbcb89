// Builders for slim objects in tests: a valid default, overridden where a test cares.
import {
  keyOf,
  type SlimContainer,
  type SlimPod,
  type SlimProbe,
  type SlimService,
  type SlimServicePort,
  type SlimIngress,
  type SlimBackendConfig,
  type BackendConfigHealthCheck,
} from '../../src/model/kube.js';
import type { LiveHealthCheck } from '../../src/model/health-check.js';
import { ServiceKeyIndex } from '../../src/kube/service-index.js';

export function service(
  o: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    ports?: SlimServicePort[];
    selector?: Record<string, string>;
  } = {},
): SlimService {
  return {
    metadata: {
      namespace: o.namespace ?? 'default',
      name: o.name ?? 'web',
      uid: 'uid-web',
      resourceVersion: '1',
      generation: 1,
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: { selector: o.selector ?? { app: 'web' }, ports: o.ports ?? [{ name: 'http', port: 80, targetPort: 8000 }] },
    status: { conditions: [] },
  };
}

export function httpProbe(
  path: string | undefined,
  port: number | string = 8000,
  extra: Partial<NonNullable<SlimProbe['httpGet']>> & { timeoutSeconds?: number; periodSeconds?: number } = {},
): SlimProbe {
  const { timeoutSeconds, periodSeconds, ...get } = extra;
  return {
    handler: 'httpGet',
    httpGet: { ...(path !== undefined ? { path } : {}), port, ...get },
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(periodSeconds !== undefined ? { periodSeconds } : {}),
  };
}

export function container(o: Partial<SlimContainer> = {}): SlimContainer {
  return {
    name: o.name ?? 'app',
    ports: o.ports ?? [{ name: 'http', containerPort: 8000 }],
    ...(o.readinessProbe ? { readinessProbe: o.readinessProbe } : {}),
    ...(o.livenessProbe ? { livenessProbe: o.livenessProbe } : {}),
  };
}

let podCounter = 0;
export function pod(
  containers: SlimContainer[],
  o: { name?: string; created?: string; deleting?: boolean; phase?: string; labels?: Record<string, string> } = {},
): SlimPod {
  podCounter += 1;
  return {
    metadata: {
      namespace: 'default',
      name: o.name ?? `web-${podCounter}`,
      resourceVersion: '1',
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: o.created ?? `2026-01-01T00:00:${String(podCounter % 60).padStart(2, '0')}Z`,
      ...(o.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}),
    },
    spec: { containers },
    status: { phase: o.phase ?? 'Running' },
  };
}

export function ingress(
  o: {
    name?: string;
    backends?: { service: string; port: number | string }[];
    gkeBackends?: Record<string, string>;
    /** The `kubernetes.io/ingress.class` annotation. */
    classAnnotation?: string;
    /** `spec.ingressClassName`. */
    ingressClassName?: string;
    namespace?: string;
  } = {},
): SlimIngress {
  const annotations: Record<string, string> = {
    ...(o.gkeBackends ? { 'ingress.kubernetes.io/backends': JSON.stringify(o.gkeBackends) } : {}),
    ...(o.classAnnotation !== undefined ? { 'kubernetes.io/ingress.class': o.classAnnotation } : {}),
  };
  return {
    metadata: {
      namespace: o.namespace ?? 'default',
      name: o.name ?? 'web',
      resourceVersion: '1',
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(o.ingressClassName !== undefined ? { ingressClassName: o.ingressClassName } : {}),
    backends: o.backends ?? [{ service: 'web', port: 80 }],
  };
}

export function backendConfig(name: string, healthCheck?: BackendConfigHealthCheck): SlimBackendConfig {
  return { metadata: { namespace: 'default', name, resourceVersion: '1' }, ...(healthCheck ? { healthCheck } : {}) };
}

export function liveCheck(
  o: Partial<{
    name: string;
    requestPath: string;
    host: string;
    checkIntervalSec: number;
    timeoutSec: number;
    type: string;
    id: string;
    scope: LiveHealthCheck['scope'];
    portSpecification: string;
    port: number;
  }> = {},
): LiveHealthCheck {
  return {
    name: o.name ?? 'k8s1-abcdef12-default-web-80-12345678',
    scope: o.scope ?? { kind: 'global' },
    id: o.id ?? '1001',
    type: o.type ?? 'HTTP',
    checkIntervalSec: o.checkIntervalSec ?? 15,
    timeoutSec: o.timeoutSec ?? 15,
    block: {
      requestPath: o.requestPath ?? '/',
      host: o.host ?? '',
      portSpecification: o.portSpecification ?? 'USE_SERVING_PORT',
      ...(o.port !== undefined ? { port: o.port } : {}),
    },
  };
}

/**
 * A ServiceKeyIndex fed as ClusterState feeds it: each Ingress event with the version the
 * informer cache held until then (informer.ts Handler).
 */
export function informedIngresses(): { index: ServiceKeyIndex; changed: (ing: SlimIngress, deleted: boolean) => Set<string> } {
  const cache = new Map<string, SlimIngress>();
  const index = new ServiceKeyIndex();
  return {
    index,
    changed: (ing, deleted) => {
      const key = keyOf(ing.metadata);
      const before = cache.get(key);
      if (deleted) cache.delete(key);
      else cache.set(key, ing);
      return index.ingressChanged(ing, before, deleted);
    },
  };
}
