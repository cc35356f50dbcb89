// For one Service: which ports Ingresses back, their backend services and live checks, the
// intent and the plan for each. Shared by reconcile, `hcsync plan` and `hcsync diagnose`.
import type { BackendServiceRef, LiveHealthCheck, Scope } from '../model/health-check.js';
import type { SlimIngress, SlimService, SlimServicePort } from '../model/kube.js';
import { backendRefersToPort, ingressIsRegional, parseIngressBackends, parseMode, type Mode } from '../parse/annotations.js';
import { intentForPort, type PortIntent } from '../intent/intent.js';
import { planPort, type PortPlan } from '../plan/port-plan.js';
import type { ClusterView } from '../kube/cluster-view.js';
import type { Logger } from '../observability/log.js';
import { effectiveMode } from '../plan/mode.js';

export interface BackendReader {
  backendService(name: string, scope: 'global' | 'regional'): Promise<BackendServiceRef | undefined>;
  healthCheck(name: string, scope: Scope): LiveHealthCheck | undefined;
}

export interface PortAssessment {
  readonly port: SlimServicePort;
  readonly backend?: BackendServiceRef;
  /** GKE's health state for the backend, from the Ingress's backends annotation. */
  readonly gkeState?: string;
  readonly live?: LiveHealthCheck;
  readonly intent: PortIntent;
  readonly plan: PortPlan;
}

export type ServiceAssessment =
  | { readonly managed: false; readonly why: string }
  | { readonly managed: true; readonly mode: Exclude<Mode, 'ignore'>; readonly ports: readonly PortAssessment[] };

export interface AssessOptions {
  readonly mode: Exclude<Mode, 'ignore'>;
  readonly inferFromLiveness: boolean;
  /** --allow-service-enforce (default true): may hcsync.io/mode: enforce override --mode observe? */
  readonly allowServiceEnforce?: boolean;
  readonly log: Logger;
}

/** Matches a backend service to a Service port: by ingress-gce's description, else by its name. */
export function backendServesPort(bs: BackendServiceRef, svc: SlimService, port: SlimServicePort): boolean {
  const { namespace, name } = svc.metadata;
  if (bs.service) {
    return bs.service.namespace === namespace && bs.service.name === name && (bs.service.port === String(port.port) || bs.service.port === port.name);
  }
  if (port.nodePort !== undefined && bs.name.startsWith(`k8s-be-${port.nodePort}-`)) return true;
  return bs.name.startsWith(`k8s1-`) && new RegExp(`^k8s1-[0-9a-f]{8}-${namespace}-${name}-${port.port}-[0-9a-f]{8}$`).test(bs.name);
}

async function findBackend(svc: SlimService, port: SlimServicePort, backing: readonly SlimIngress[], backends: BackendReader, log: Logger) {
  for (const ing of backing) {
    const names = parseIngressBackends(ing.metadata.annotations);
    if (!names.ok) {
      log.warn('unreadable ingress backends annotation', { namespace: ing.metadata.namespace, ingress: ing.metadata.name, error: names.error });
      continue;
    }
    for (const [bsName, state] of names.value) {
      const bs = await backends.backendService(bsName, ingressIsRegional(ing.className) ? 'regional' : 'global');
      if (bs && backendServesPort(bs, svc, port)) return { backend: bs, gkeState: state };
    }
  }
  return undefined;
}

export async function assessService(svc: SlimService, view: ClusterView, backends: BackendReader, opts: AssessOptions): Promise<ServiceAssessment> {
  const { namespace, name } = svc.metadata;
  const modeAnnotation = parseMode(svc.metadata.annotations);
  const effective = effectiveMode({ clusterMode: opts.mode, annotation: modeAnnotation, allowServiceEnforce: opts.allowServiceEnforce ?? true });
  if (effective.mode === 'ignore') return { managed: false, why: 'hcsync.io/mode is ignore' };
  const ingresses = view.ingressesFor(namespace, name);
  if (ingresses.length === 0) return { managed: false, why: 'no Ingress has a backend on this Service' };
  const mode = effective.mode;
  if (effective.why === 'enforce-not-allowed') opts.log.debug('hcsync.io/mode: enforce ignored: --allow-service-enforce=false', { namespace, service: name });
  const pods = view.podsFor(svc);

  const ports: PortAssessment[] = [];
  for (const port of svc.spec.ports) {
    const backing = ingresses.filter((ing) => ing.backends.some((b) => b.service === name && backendRefersToPort(b, port)));
    if (backing.length === 0) continue;
    const found = await findBackend(svc, port, backing, backends, opts.log);
    const hcRef = found?.backend.healthCheck;
    const live = hcRef ? backends.healthCheck(hcRef.name, hcRef.scope) : undefined;
    const intent: PortIntent = modeAnnotation.ok
      ? intentForPort({
          service: svc,
          port,
          pods,
          backendConfig: (n) => view.backendConfig(namespace, n),
          backendKind: found?.backend.backendKind ?? 'unknown',
          inferFromLiveness: opts.inferFromLiveness,
        })
      : { kind: 'invalid', error: `Service ${namespace}/${name}: ${modeAnnotation.error}` };
    ports.push({
      port,
      ...(found ? { backend: found.backend, gkeState: found.gkeState } : {}),
      ...(live ? { live } : {}),
      intent,
      plan: planPort({ intent, live, mode }),
    });
  }
  return { managed: true, mode, ports };
}
