// Pods ↔ Services by label selector, kept up to date event by event, so that neither direction
// scans a namespace: `podsFor(service)` reads the Pods carrying the rarest pair of the selector,
// and a Pod event reads the Services anchored on one of its labels. A Service selector is a plain
// map of equality requirements (core/v1 ServiceSpec.selector; no set-based expressions), so a Pod
// matches iff it carries every pair, and any one pair of a selector is a sound place to look the
// Service up from. Pure: plain objects in, keys and Pods out; ClusterState feeds it the informers'
// events. It also remembers each Pod as last seen, so a Pod event that changes nothing hcsync
// reads (a new resourceVersion, a status field other than the phase) notifies no Service.
import { keyOf, type SlimPod, type SlimService } from '../model/kube.js';
import { jsonEqual } from '../lib/json-equal.js';
import { selectorMatches } from './service-index.js';

/** The index key of one label pair in one namespace (NUL cannot occur in a namespace or label key). */
const pairKey = (namespace: string, key: string, value: string) => `${namespace}\0${key}\0${value}`;

/** The parts of a slim Pod that hcsync reads, compared: everything but resourceVersion and generation (src/intent/ reads labels, timestamps, containers and phase). */
export function samePodForHcsync(a: SlimPod, b: SlimPod): boolean {
  const m = a.metadata;
  const n = b.metadata;
  return (
    m.uid === n.uid &&
    m.creationTimestamp === n.creationTimestamp &&
    m.deletionTimestamp === n.deletionTimestamp &&
    a.status.phase === b.status.phase &&
    jsonEqual(m.labels, n.labels) &&
    jsonEqual(m.annotations, n.annotations) &&
    jsonEqual(a.spec, b.spec)
  );
}

function addTo(map: Map<string, Set<string>>, key: string, member: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(member);
}

function removeFrom(map: Map<string, Set<string>>, key: string, member: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(member);
  if (set.size === 0) map.delete(key);
}

/**
 * The selector links between the Pods and Services of a cluster (or of the namespaces watched).
 * Memory: one map entry per Pod, one set entry per Pod label and one per Service.
 */
export class SelectorIndex {
  /** Pods as last seen, by key. */
  private readonly pods = new Map<string, SlimPod>();
  /** namespace/label pair → keys of the Pods carrying it. */
  private readonly podsByPair = new Map<string, Set<string>>();
  /** Each Service with a selector: the selector, and the one pair it is anchored on. */
  private readonly services = new Map<
    string,
    { readonly namespace: string; readonly selector: Readonly<Record<string, string>>; readonly anchor: string }
  >();
  /** namespace/label pair → keys of the Services anchored on it. */
  private readonly servicesByAnchor = new Map<string, Set<string>>();

  /**
   * Records a Service (or its deletion). Only the Service itself is affected by its own selector
   * change (the Pods it selects are read when it is reconciled), so nothing is returned.
   */
  serviceChanged(service: SlimService, deleted: boolean): void {
    const key = keyOf(service.metadata);
    const before = this.services.get(key);
    const selector = deleted ? undefined : service.spec.selector;
    if (before && selector && jsonEqual(before.selector, selector)) return;
    if (before) {
      removeFrom(this.servicesByAnchor, before.anchor, key);
      this.services.delete(key);
    }
    // A Service without a selector selects no Pod (its endpoints are managed by hand): not indexed.
    if (!selector || Object.keys(selector).length === 0) return;
    const { namespace } = service.metadata;
    const anchor = this.rarestPair(
      namespace,
      selector,
      (p) => (this.podsByPair.get(p)?.size ?? 0) + (this.servicesByAnchor.get(p)?.size ?? 0),
    );
    this.services.set(key, { namespace, selector, anchor });
    addTo(this.servicesByAnchor, anchor, key);
  }

  /**
   * Records a Pod (or its deletion); returns the keys of the Services it affects: those whose
   * selector matched it before or matches it now (a relabel notifies both). None when the Pod
   * changed nothing hcsync reads (samePodForHcsync).
   */
  podChanged(pod: SlimPod, deleted: boolean): Set<string> {
    const key = keyOf(pod.metadata);
    const before = this.pods.get(key);
    if (!deleted && before && samePodForHcsync(before, pod)) {
      this.pods.set(key, pod); // the newest object, with its resourceVersion
      return new Set();
    }
    const affected = before ? this.servicesSelecting(before) : new Set<string>();
    if (before) for (const p of this.pairsOf(before)) removeFrom(this.podsByPair, p, key);
    if (deleted) {
      this.pods.delete(key);
      return affected;
    }
    this.pods.set(key, pod);
    for (const p of this.pairsOf(pod)) addTo(this.podsByPair, p, key);
    for (const s of this.servicesSelecting(pod)) affected.add(s);
    return affected;
  }

  /** The Pods (of the Service's namespace) its selector selects, read from the Pods carrying its rarest pair. */
  podsFor(service: SlimService): SlimPod[] {
    const selector = service.spec.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    const { namespace } = service.metadata;
    const candidates = this.podsByPair.get(this.rarestPair(namespace, selector, (p) => this.podsByPair.get(p)?.size ?? 0));
    const out: SlimPod[] = [];
    for (const k of candidates ?? []) {
      const pod = this.pods.get(k);
      if (pod && selectorMatches(selector, pod.metadata.labels)) out.push(pod);
    }
    return out;
  }

  /** Keys of the Services whose selector matches this Pod: those anchored on one of its labels, checked in full. */
  private servicesSelecting(pod: SlimPod): Set<string> {
    const keys = new Set<string>();
    for (const p of this.pairsOf(pod)) {
      for (const k of this.servicesByAnchor.get(p) ?? []) {
        const s = this.services.get(k);
        if (s && selectorMatches(s.selector, pod.metadata.labels)) keys.add(k);
      }
    }
    return keys;
  }

  private pairsOf(pod: SlimPod): string[] {
    const labels = pod.metadata.labels ?? {};
    return Object.keys(labels).map((k) => pairKey(pod.metadata.namespace, k, labels[k] ?? ''));
  }

  /**
   * The selector pair with the lowest weight (ties: the first key in sort order, so the choice
   * is stable). Any pair is correct; the rarest keeps the lookups short (a selector
   * `{app: web-17, tier: frontend}` is found through `app`, not through the pair every Pod has).
   */
  private rarestPair(namespace: string, selector: Readonly<Record<string, string>>, weight: (pair: string) => number): string {
    let best: string | undefined;
    let bestWeight = Infinity;
    for (const k of Object.keys(selector).sort()) {
      const p = pairKey(namespace, k, selector[k] ?? '');
      const w = weight(p);
      if (w < bestWeight) [best, bestWeight] = [p, w];
    }
    return best ?? '';
  }
}
