// For one Service: which ports GKE Ingresses back, their backend services and live checks, the
// intent and the plan for each (Service port, health check). Shared by reconcile, `hcsync plan`
// and `hcsync diagnose`. Pure and synchronous: it reads the cluster view and the GCP inventory as
// they are, and reports the backends the inventory has not seen; whether to re-list GCP is the
// caller's decision.
//
// Cost: linear in the Service's ports plus its Ingresses' backends. Each annotation is parsed
// once per Service (intent) or once per Ingress (backends), backend names are resolved to ports
// through maps, and the ports assessed per Service are capped (MAX_PORTS_PER_SERVICE), so one
// tenant's object cannot stall the event loop past the Lease renew deadline.
import { scopeKey, type BackendKind, type BackendServiceRef, type LiveHealthCheck } from '../model/health-check.js';
import { BackendNameIndex, backendNameServesPort } from '../model/ingress-gce-names.js';
import { portLabel, type SlimIngress, type SlimService, type SlimServicePort } from '../model/kube.js';
import type { BackendReader, ClusterView } from '../model/ports.js';
import { ANNOTATION, parseIngressBackends, parseMode, type ActiveMode } from '../parse/annotations.js';
import { gkeIngressClassOf, ingressScopeOfClass } from '../parse/ingress-class.js';
import { intentForServicePort, serviceIntentContext, type PortIntent, type ServiceIntentContext } from '../intent/intent.js';
import { planPort, type PortPlan } from './port-plan.js';
import { effectiveMode } from './mode.js';
import type { PortOutcome, PortReport } from './outcome.js';

/**
 * At most this many Service ports are assessed per Service. Far above any real Service (Kubernetes
 * itself warns long before; a GKE load balancer has far fewer backends), low enough that one
 * Service's pass stays well under the Lease renew deadline. Beyond it the Service gets
 * InvalidIntent naming the cap and nothing is written.
 */
export const MAX_PORTS_PER_SERVICE = 1000;

/**
 * One (Service port, health check) pair. A port behind an external and an internal Ingress has two
 * checks, so two entries; several Ingresses sharing one backend give one entry.
 */
export interface PortAssessment {
  readonly port: SlimServicePort;
  /** The check's key (`global/<name>`, `regions/<r>/<name>`), or `pending/<port>` while GKE has not linked one. */
  readonly id: string;
  readonly backend?: BackendServiceRef;
  /** GKE's health state for the backend, from the Ingress's backends annotation. */
  readonly gkeState?: string;
  readonly live?: LiveHealthCheck;
  readonly intent: PortIntent;
  readonly plan: PortPlan;
  /** The Ingresses (in the Service's namespace) behind which this backend sits. */
  readonly ingresses: readonly string[];
  /** The entry stands for the whole Service (the port cap), not for one port. */
  readonly serviceWide?: true;
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
  /** Overrides MAX_PORTS_PER_SERVICE (tests). */
  readonly maxPorts?: number;
}

/**
 * Whether a backend service serves this Service port, by evidence that cannot collide between
 * tenants: ingress-gce's JSON description (`kubernetes.io/service-name` and `service-port`) when it
 * has one, else its name recomputed exactly as ingress-gce builds it (model/ingress-gce-names.ts).
 */
export function backendServesPort(bs: BackendServiceRef, svc: SlimService, port: SlimServicePort): boolean {
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

/** The name users see for a check: its name when global, `regions/<r>/<name>` when regional (the two can share a name). */
export function checkLabel(ref: { readonly name: string; readonly scope: BackendServiceRef['scope'] }): string {
  return ref.scope.kind === 'global' ? ref.name : `${scopeKey(ref.scope)}/${ref.name}`;
}

/** The report of one assessed entry once its plan was applied: what the condition, Events and metrics are made from. */
export function reportOf(a: PortAssessment, outcome: PortOutcome): PortReport {
  const hc = a.backend?.healthCheck;
  return {
    port: a.port,
    ...(hc ? { healthCheck: checkLabel(hc) } : {}),
    outcome,
    warnings: a.intent.kind === 'desired' || a.intent.kind === 'none' ? a.intent.warnings : [],
    ...(a.serviceWide ? { serviceWide: true } : {}),
  };
}

/** Resolves backend services to this Service's ports: by description through maps, else by name (BackendNameIndex). */
class PortResolver {
  private readonly byNumber = new Map<string, SlimServicePort>();
  private readonly byName = new Map<string, SlimServicePort>();
  private readonly names: BackendNameIndex<SlimServicePort>;

  constructor(private readonly svc: SlimService) {
    for (const p of svc.spec.ports) {
      if (!this.byNumber.has(String(p.port))) this.byNumber.set(String(p.port), p);
      if (p.name !== undefined && !this.byName.has(p.name)) this.byName.set(p.name, p);
    }
    this.names = new BackendNameIndex(svc.metadata, svc.spec.ports);
  }

  portOf(bs: BackendServiceRef): SlimServicePort | undefined {
    if (bs.service) {
      const { namespace, name } = this.svc.metadata;
      if (bs.service.namespace !== namespace || bs.service.name !== name) return undefined;
      return this.byNumber.get(bs.service.port) ?? this.byName.get(bs.service.port);
    }
    return this.names.portOf(bs.name);
  }
}

interface Group {
  backend?: BackendServiceRef;
  gkeState?: string;
  ingresses: string[];
}

/**
 * Assesses one Service: not managed (mode ignore, or no GKE Ingress backs it) with the reason, or
 * per (backed port, health check) its backend, live check, intent and plan. An unreadable
 * hcsync.io/mode makes the Service observe-only with invalid intent, so a typo never patches.
 * Ingresses of other classes are not GKE's and are ignored (parse/ingress-class.ts).
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
  const ingresses = view.ingressesFor(namespace, name).flatMap((ing) => {
    const cls = gkeIngressClassOf({ annotations: ing.metadata.annotations, ingressClassName: ing.ingressClassName });
    return cls ? [{ ing, scope: ingressScopeOfClass(cls), ...refsTo(ing, name) }] : [];
  });
  if (ingresses.length === 0) return { managed: false, why: 'no GKE Ingress has a backend on this Service' };
  const mode = effective.mode;

  // Which Ingresses back each port: O(ports × Ingresses) set lookups.
  const backed: { port: SlimServicePort; by: typeof ingresses }[] = [];
  for (const port of svc.spec.ports) {
    const by = ingresses.filter((i) => i.numbers.has(port.port) || (port.name !== undefined && i.names.has(port.name)));
    if (by.length > 0) backed.push({ port, by });
  }
  const cap = opts.maxPorts ?? MAX_PORTS_PER_SERVICE;
  const first = backed[0];
  if (first && backed.length > cap) {
    const why = `Service ${namespace}/${name} has ${backed.length} ports behind GKE Ingresses; hcsync assesses at most ${cap} ports per Service, so it assesses and writes nothing for this Service (split the Service, or set hcsync.io/mode: ignore)`;
    const intent: PortIntent = { kind: 'invalid', error: why };
    return {
      managed: true,
      ports: [{ port: first.port, id: 'service', intent, plan: { state: 'invalid', why }, ingresses: [], serviceWide: true }],
      unseenBackends: [],
    };
  }

  // Each Ingress's backends annotation, parsed once and resolved to this Service's ports.
  const resolver = new PortResolver(svc);
  const unseen = new Set<string>();
  const resolved = new Map<SlimIngress, Map<SlimServicePort, { bs: BackendServiceRef; state: string }>>();
  for (const { ing, scope } of ingresses) {
    const names = ingressBackendsOf(ing);
    if ('error' in names) {
      opts.onUnreadableIngress?.(ing, names.error);
      continue;
    }
    const byPort = new Map<SlimServicePort, { bs: BackendServiceRef; state: string }>();
    for (let i = 0; i + 1 < names.length; i += 2) {
      const bsName = names[i] as string;
      const state = names[i + 1] as string;
      const bs = backends.backendService(bsName, scope);
      if (!bs) {
        unseen.add(bsName);
        continue;
      }
      const port = resolver.portOf(bs);
      if (port && !byPort.has(port)) byPort.set(port, { bs, state });
    }
    resolved.set(ing, byPort);
  }

  // Intent per (port, backend kind), derived once per pass from the Service's Pods and the
  // BackendConfigs it names. No memo across passes: reconcile skips a pass whose inputs are all
  // the same objects as its last settled one (controller/pass-reads.ts), which costs less heap
  // per Service than the per-Service intent memo did (issue 11).
  let ctx: ServiceIntentContext | undefined;
  let intents: Map<SlimServicePort, Partial<Record<BackendKind, PortIntent>>> | undefined;
  const intentFor = (port: SlimServicePort, kind: BackendKind): PortIntent => {
    if (!modeAnnotation.ok) return { kind: 'invalid', error: `Service ${namespace}/${name}: ${modeAnnotation.error}` };
    intents ??= new Map();
    let byKind = intents.get(port);
    if (!byKind) intents.set(port, (byKind = {}));
    let intent = byKind[kind];
    if (!intent) {
      ctx ??= serviceIntentContext({
        service: svc,
        pods: view.podsFor(svc),
        backendConfig: (n) => view.backendConfig(namespace, n),
        inferFromLiveness: opts.inferFromLiveness,
      });
      byKind[kind] = intent = intentForServicePort(ctx, port, kind);
    }
    return intent;
  };

  const ports: PortAssessment[] = [];
  for (const { port, by } of backed) {
    // One entry per distinct backend (check); Ingresses GKE has not linked yet share a pending one.
    const groups = new Map<string, Group>();
    for (const { ing } of by) {
      const r = resolved.get(ing)?.get(port);
      const id = r ? `${scopeKey(r.bs.scope)}/${r.bs.name}` : `pending/${port.port}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = r ? { backend: r.bs, gkeState: r.state, ingresses: [] } : { ingresses: [] }));
      g.ingresses.push(ing.metadata.name);
    }
    for (const [id, g] of groups) {
      const hcRef = g.backend?.healthCheck;
      const live = hcRef ? backends.healthCheck(hcRef.name, hcRef.scope) : undefined;
      const backendKind = g.backend?.backendKind ?? 'unknown';
      const intent = intentFor(port, backendKind);
      ports.push({
        port,
        id,
        ...(g.backend ? { backend: g.backend } : {}),
        ...(g.gkeState !== undefined ? { gkeState: g.gkeState } : {}),
        ...(live ? { live } : {}),
        intent,
        plan: planPort({
          intent,
          live,
          mode,
          serving: { port, backendKind },
          subject: `Service ${namespace}/${name} port ${portLabel(port)}`,
        }),
        ingresses: g.ingresses,
      });
    }
  }
  return { managed: true, ports, unseenBackends: [...unseen] };
}

/**
 * Each Ingress's backends annotation, parsed once per version of the Ingress: the cache's slim
 * objects are immutable and replaced on every update, so the object itself is the key, and a
 * steady resync parses no JSON. Weak: an Ingress gone from the cache takes its entry with it.
 * Kept as one flat array `[name, state, name, state, …]` of exact length (a Map and its Parsed
 * wrapper cost ~220 B per Ingress, issue 11), or the parse failure.
 */
const parsedBackends = new WeakMap<SlimIngress, readonly string[] | { readonly ok: false; readonly error: string }>();
function ingressBackendsOf(ing: SlimIngress): readonly string[] | { readonly ok: false; readonly error: string } {
  let kept = parsedBackends.get(ing);
  if (!kept) {
    const parsed = parseIngressBackends(ing.metadata.annotations);
    if (parsed.ok) {
      const raw = ing.metadata.annotations?.[ANNOTATION.ingressBackends] ?? '';
      const flat = new Array<string>(2 * parsed.value.size);
      let i = 0;
      for (const [name, state] of parsed.value) {
        flat[i++] = sliceOf(raw, name);
        flat[i++] = state;
      }
      kept = flat;
    } else kept = parsed;
    parsedBackends.set(ing, kept);
  }
  return kept;
}

/**
 * `name` as a slice of `raw` where it occurs there quoted: V8 keeps a slice of 13 characters or
 * more as a reference into `raw` (32 B), which the Ingress keeps anyway, where JSON.parse made a
 * copy (a backend name is ~45 characters: 64 B per Ingress backend, issue 11). Equal text either way.
 */
export function sliceOf(raw: string, name: string): string {
  const at = raw.indexOf(`"${name}"`);
  return at < 0 ? name : raw.slice(at + 1, at + 1 + name.length);
}

/** The port numbers and names by which an Ingress refers to this Service. */
function refsTo(ing: SlimIngress, service: string): { numbers: Set<number>; names: Set<string> } {
  const numbers = new Set<number>();
  const names = new Set<string>();
  for (const b of ing.backends) {
    if (b.service !== service) continue;
    if (typeof b.port === 'number') numbers.add(b.port);
    else names.add(b.port);
  }
  return { numbers, names };
}
