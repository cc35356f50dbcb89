// The informers of one kind: one per namespace when --namespaces is set, else one cluster-wide,
// read as one cache. Shared by ClusterState (core kinds) and GatewayState (Gateway API kinds).
import type { SlimInformer } from './informer.js';

/** One informer per namespace when --namespaces is set, else one cluster-wide. */
export class Family<T extends { metadata: { namespace: string; name: string; resourceVersion: string } }> {
  readonly informers: SlimInformer<T>[];
  constructor(private readonly byNamespace: Map<string, SlimInformer<T>>) {
    this.informers = [...byNamespace.values()];
  }
  private forNamespace(ns: string): SlimInformer<T> | undefined {
    return this.byNamespace.get(ns) ?? this.byNamespace.get('');
  }
  get(ns: string, name: string): T | undefined {
    return this.forNamespace(ns)?.get(ns, name);
  }
  list(ns: string): readonly T[] {
    return this.forNamespace(ns)?.list(ns) ?? [];
  }
  all(): T[] {
    return this.informers.flatMap((i) => i.list());
  }
}
