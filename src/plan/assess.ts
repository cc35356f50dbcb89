// For one Service: which ports Ingresses back, their backend services and live checks, the
// intent and the plan for each. Shared by reconcile, `hcsync plan` and `hcsync diagnose`. Pure
// and synchronous: it reads the cluster view and the GCP inventory as they are, and reports the
// backends the inventory has not seen; whether to re-list GCP is the caller's decision.
import type { BackendServiceRef, LiveHealthCheck } from '../model/health-check.js';
import { backendNameServesPort } from '../model/ingress-gce-names.js';
import type { SlimIngress, SlimService, SlimServicePort } from '../model/kube.js';
import type { BackendReader, ClusterView } from '../model/ports.js';
import { backendRefersToPort, ingressScopeOf, parseIngressBackends, parseMode, type ActiveMode } from '../parse/annotations.js';
import { intentForPort, type PortIntent } from '../intent/intent.js';
import { planPort, type PortPlan } from './port-plan.js';
import { effectiveMode } from './mode.js';

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
  | {
      readonly managed: true;
      readonly ports: readonly PortAssessment[];
      /** Backend services an Ingress names that the inventory has not seen (GKE may have just made them). */
      readonly unseenBackends: readonly string[];
    };

export interface AssessOptions {
  readonly mode: ActiveMode;
  readonly inferFromLiveness: boolean;
  /** Told about an Ingress whose backends annotation cannot be read (the Ingress is skipped). */
  readonly onUnreadableIngress?: (ingress: SlimIngress, error: string) => void;
  /** --allow-service-enforce (default true): may hcsync.io/mode: enforce override --mode observe? */
  readonly allowServiceEnforce?: boolean;
}

/** Whether a backend service serves this Service port: by ingress-gce's description, else by its name. */
function backendServesPort(bs: BackendServiceRef, svc: SlimService, port: SlimServicePort): boolean {
  const { namespace, name } = svc.metadata;
  if (bs.service) {
    return (
      bs.service.namespace === namespace &&
      bs.service.name === name &&
      (bs.service.port === String(port.port) || bs.service.port === port.name)
    );
  }
  return backendNameServesPort(bs.name, svc.metadata, port);
}

function findBackend(
  svc: SlimService,
  port: SlimServicePort,
  backing: readonly SlimIngress[],
  backends: BackendReader,
  unseen: Set<string>,
  opts: AssessOptions,
) {
  for (const ing of backing) {
    const names = parseIngressBackends(ing.metadata.annotations);
    if (!names.ok) {
      opts.onUnreadableIngress?.(ing, names.error);
      continue;
    }
    for (const [bsName, state] of names.value) {
      const bs = backends.backendService(bsName, ingressScopeOf(ing.className));
      if (!bs) unseen.add(bsName);
      else if (backendServesPort(bs, svc, port)) return { backend: bs, gkeState: state };
    }
  }
  return undefined;
}

/**
 * Assesses one Service: not managed (mode ignore, or no Ingress backs it) with the reason, or per
 * backed port its backend, live check, intent and plan. An unreadable hcsync.io/mode makes the
 * Service observe-only with invalid intent, so a typo never patches.
 */
export function assessService(svc: SlimService, view: ClusterView, backends: BackendReader, opts: AssessOptions): ServiceAssessment {
  const { namespace, name } = svc.metadata;
  const modeAnnotation = parseMode(svc.metadata.annotations);
  const effective = effectiveMode({
    clusterMode: opts.mode,
    annotation: modeAnnotation,
    allowServiceEnforce: opts.allowServiceEnforce ?? true,
  });
  if (effective.mode === 'ignore') return { managed: false, why: 'hcsync.io/mode is ignore' };
  const ingresses = view.ingressesFor(namespace, name);
  if (ingresses.length === 0) return { managed: false, why: 'no Ingress has a backend on this Service' };
  const mode = effective.mode;
  const pods = view.podsFor(svc);

  const ports: PortAssessment[] = [];
  const unseen = new Set<string>();
  for (const port of svc.spec.ports) {
    const backing = ingresses.filter((ing) => ing.backends.some((b) => b.service === name && backendRefersToPort(b, port)));
    if (backing.length === 0) continue;
    const found = findBackend(svc, port, backing, backends, unseen, opts);
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
  return { managed: true, ports, unseenBackends: [...unseen] };
}
