// What one reconcile pass read of the cluster view and the GCP inventory, kept so that the next
// pass over the same Service can tell, without assessing, that it would read the very same
// objects (issue 11: a steady resync of 5,000 in-sync Services). The informer caches' slim
// objects are immutable and replaced on every update (kube/slim.ts), and the inventory keeps the
// object of a check or backend service whose listed data did not change (gcp/inventory.ts
// samePlainData), so "the same object" means "the same input". Assessment and intent are pure
// functions of these reads and of the reconciler's flags (fixed per reconciler), so a pass whose
// reads all come back as the same objects would reach the same plan (reconcile.ts decides when
// that plan's report may be reused: in sync and fully settled).
//
// The record is one flat array per Service (op code, the arguments that are not the Service's
// own namespace and name, then the result or an array's length and elements), at most MAX_SLOTS
// long: a pass that read more, or that did more than read (a re-list, a re-read, a patch), keeps
// nothing, and its Service is simply assessed again next time. Any doubt is a full pass.
import type { BackendServiceRef, IngressScope, LiveHealthCheck, OwnedFields, Scope } from '../model/health-check.js';
import type { SlimBackendConfig, SlimIngress, SlimPod, SlimService } from '../model/kube.js';
import type { SlimGateway, SlimGatewayClass, SlimHealthCheckPolicy, SlimReferenceGrant, SlimRoute } from '../model/gateway.js';
import type { BackendLookup, ClusterView, WantedFromGcp } from '../model/ports.js';

/** One pass's reads, in the order made; opaque outside this file. */
export type PassReads = readonly unknown[];

// Op codes. The Service's own reads (its Pods, Ingresses, routes; its namespace's policies and
// grants) store no argument: they are the Service's own at replay too.
const PODS = 0;
const INGRESSES = 1;
const ROUTES = 2;
const POLICIES = 3;
const GRANTS = 4;
const BACKEND_CONFIG = 5;
const BC_CHANGED_AT = 6;
const GATEWAY = 7;
const GATEWAY_CLASS = 8;
const SERVICE = 9;
const BACKEND_SERVICE = 10;
const HEALTH_CHECK = 11;
const GATEWAY_BACKENDS = 12;

/**
 * A typical Service (3 Pods, 1 Ingress, 1 backend and check, no route) reads 20 slots; 64 leaves
 * room for a few ports and Ingresses while bounding the memory kept per Service (~0.5 KiB).
 */
const MAX_SLOTS = 64;

/** What a view without the Gateway kinds reads as, at replay. */
const EMPTY: readonly never[] = [];

/**
 * Records the reads of one pass over `svc` through `view` and `backends` (use those in the pass
 * instead of the originals). `reads()` is the record, or undefined when the pass read too much
 * or did more than read.
 */
export class PassRecorder {
  readonly view: ClusterView;
  readonly backends: BackendLookup;
  private tape: unknown[] | undefined = [];

  constructor(
    readonly svc: SlimService,
    view: ClusterView,
    backends: BackendLookup,
  ) {
    this.view = new RecordingView(view, this);
    this.backends = new RecordingBackends(backends, this);
  }

  /** The record, trimmed to its length; undefined when spoiled. */
  reads(): PassReads | undefined {
    return this.tape?.slice();
  }

  /** This pass cannot be replayed (it did more than read, or read another Service's objects). */
  spoil(): void {
    this.tape = undefined;
  }

  /** Whether (namespace, name) are the Service's own; anything else spoils the record. */
  own(namespace: string, name?: string): boolean {
    const m = this.svc.metadata;
    if (namespace === m.namespace && (name === undefined || name === m.name)) return true;
    this.spoil();
    return false;
  }

  one<T>(op: number, a: unknown, b: unknown, result: T, args: 0 | 1 | 2): T {
    const t = this.tape;
    if (!t) return result;
    if (t.length + 4 > MAX_SLOTS) {
      this.spoil();
      return result;
    }
    t.push(op);
    if (args > 0) t.push(a);
    if (args > 1) t.push(b);
    t.push(result);
    return result;
  }

  many<T extends readonly unknown[]>(op: number, result: T): T {
    const t = this.tape;
    if (!t) return result;
    if (t.length + 2 + result.length > MAX_SLOTS) {
      this.spoil();
      return result;
    }
    t.push(op, result.length);
    for (const x of result) t.push(x);
    return result;
  }
}

class RecordingView implements ClusterView {
  constructor(
    private readonly inner: ClusterView,
    private readonly rec: PassRecorder,
  ) {}

  service(namespace: string, name: string): SlimService | undefined {
    return this.rec.one(SERVICE, namespace, name, this.inner.service(namespace, name), 2);
  }
  podsFor(service: SlimService): SlimPod[] {
    const pods = this.inner.podsFor(service);
    if (service !== this.rec.svc) this.rec.spoil();
    return this.rec.many(PODS, pods);
  }
  ingressesFor(namespace: string, serviceName: string): SlimIngress[] {
    const ings = this.inner.ingressesFor(namespace, serviceName);
    return this.rec.own(namespace, serviceName) ? this.rec.many(INGRESSES, ings) : ings;
  }
  backendConfig(namespace: string, name: string): SlimBackendConfig | undefined {
    const bc = this.inner.backendConfig(namespace, name);
    return this.rec.own(namespace) ? this.rec.one(BACKEND_CONFIG, name, undefined, bc, 1) : bc;
  }
  backendConfigChangedAt(namespace: string, name: string): number | undefined {
    const at = this.inner.backendConfigChangedAt?.(namespace, name);
    return this.rec.own(namespace) ? this.rec.one(BC_CHANGED_AT, name, undefined, at, 1) : at;
  }
  routesTo(namespace: string, serviceName: string): SlimRoute[] {
    const routes = this.inner.routesTo?.(namespace, serviceName) ?? [];
    return this.rec.own(namespace, serviceName) ? this.rec.many(ROUTES, routes) : routes;
  }
  gateway(namespace: string, name: string): SlimGateway | undefined {
    return this.rec.one(GATEWAY, namespace, name, this.inner.gateway?.(namespace, name), 2);
  }
  gatewayClass(name: string): SlimGatewayClass | undefined {
    return this.rec.one(GATEWAY_CLASS, name, undefined, this.inner.gatewayClass?.(name), 1);
  }
  referenceGrants(namespace: string): SlimReferenceGrant[] {
    const grants = this.inner.referenceGrants?.(namespace) ?? [];
    return this.rec.own(namespace) ? this.rec.many(GRANTS, grants) : grants;
  }
  healthCheckPolicies(namespace: string): SlimHealthCheckPolicy[] {
    const policies = this.inner.healthCheckPolicies?.(namespace) ?? [];
    return this.rec.own(namespace) ? this.rec.many(POLICIES, policies) : policies;
  }
}

class RecordingBackends implements BackendLookup {
  constructor(
    private readonly inner: BackendLookup,
    private readonly rec: PassRecorder,
  ) {}

  backendService(name: string, scope: IngressScope): BackendServiceRef | undefined {
    return this.rec.one(BACKEND_SERVICE, name, scope, this.inner.backendService(name, scope), 2);
  }
  healthCheck(name: string, scope: Scope): LiveHealthCheck | undefined {
    return this.rec.one(HEALTH_CHECK, name, scope, this.inner.healthCheck(name, scope), 2);
  }
  gatewayBackendServices(): readonly BackendServiceRef[] {
    return this.rec.many(GATEWAY_BACKENDS, this.inner.gatewayBackendServices?.() ?? []);
  }
  // More than reads: the pass is not kept.
  refreshIfDue(wanted: WantedFromGcp): Promise<boolean> {
    this.rec.spoil();
    return this.inner.refreshIfDue(wanted);
  }
  recordPatch(name: string, scope: Scope, fields: OwnedFields): void {
    this.rec.spoil();
    this.inner.recordPatch(name, scope, fields);
  }
  forgetHealthCheck(name: string, scope: Scope): void {
    this.rec.spoil();
    this.inner.forgetHealthCheck(name, scope);
  }
  reread(name: string, scope: Scope): Promise<LiveHealthCheck | undefined> {
    this.rec.spoil();
    return this.inner.reread(name, scope);
  }
}

/**
 * Whether reading again what `reads` recorded for `svc` gives the very same objects (and values)
 * in the same order. Costs the lookups alone: no assessment, no intent, no report.
 */
export function readsUnchanged(reads: PassReads, svc: SlimService, view: ClusterView, backends: BackendLookup): boolean {
  const { namespace, name } = svc.metadata;
  let i = 0;
  const same = (now: readonly unknown[]): boolean => {
    if (reads[i++] !== now.length) return false;
    for (const x of now) if (reads[i++] !== x) return false;
    return true;
  };
  while (i < reads.length) {
    const op = reads[i++];
    // Arguments are taken before the call: an optional method left out must not skip them.
    let ok: boolean;
    if (op === PODS) ok = same(view.podsFor(svc));
    else if (op === INGRESSES) ok = same(view.ingressesFor(namespace, name));
    else if (op === ROUTES) ok = same(view.routesTo?.(namespace, name) ?? EMPTY);
    else if (op === POLICIES) ok = same(view.healthCheckPolicies?.(namespace) ?? EMPTY);
    else if (op === GRANTS) ok = same(view.referenceGrants?.(namespace) ?? EMPTY);
    else if (op === GATEWAY_BACKENDS) ok = same(backends.gatewayBackendServices?.() ?? EMPTY);
    else {
      const a = reads[i++] as string;
      const b = op === GATEWAY || op === SERVICE || op === BACKEND_SERVICE || op === HEALTH_CHECK ? reads[i++] : undefined;
      const was = reads[i++];
      let now: unknown;
      if (op === BACKEND_CONFIG) now = view.backendConfig(namespace, a);
      else if (op === BC_CHANGED_AT) now = view.backendConfigChangedAt?.(namespace, a);
      else if (op === GATEWAY) now = view.gateway?.(a, b as string);
      else if (op === GATEWAY_CLASS) now = view.gatewayClass?.(a);
      else if (op === SERVICE) now = view.service(a, b as string);
      else if (op === BACKEND_SERVICE) now = backends.backendService(a, b as IngressScope);
      else if (op === HEALTH_CHECK) now = backends.healthCheck(a, b as Scope);
      else return false;
      ok = now === was;
    }
    if (!ok) return false;
  }
  return true;
}
