// The part of @google-cloud/compute's protobuf descriptor (build/protos/protos.json, 12 MB) that the
// Compute services hcsync uses need. Every client of that package loads the whole descriptor into a
// protobufjs Root: Compute v1 and v1beta, ~4,400 messages and services, ~35 MiB of heap and ~100 MiB
// of RSS at start-up, before the first object is read. A Root built from this subset serves the
// same clients (REST transcoding looks up only its own service's methods and their message types).

/** A namespace, message, enum or service in protobufjs's JSON descriptor format. */
export interface ProtoNode {
  nested?: Record<string, ProtoNode>;
  fields?: Record<string, { type: string }>;
  methods?: Record<string, { requestType: string; responseType: string }>;
  [key: string]: unknown;
}

/**
 * `descriptor` cut down to the named services of package `pkg` (e.g. 'google.cloud.compute.v1') and
 * every message and enum of that package they reach (request and response types, field types,
 * transitively); nested types go with their parent. Other packages of the descriptor (google.api,
 * google.protobuf, the google.cloud operation options) are kept whole; sibling versions of the
 * package (v1beta next to v1) are dropped. Throws when the package or a named service is missing,
 * so a library upgrade that moves them fails at start-up, not on the first call.
 */
export function protoSubset(descriptor: ProtoNode, pkg: string, services: readonly string[]): ProtoNode {
  const path = pkg.split('.');
  const parents: ProtoNode[] = [descriptor];
  for (const segment of path) {
    const next = parents.at(-1)?.nested?.[segment];
    if (!next) throw new Error(`protobuf descriptor has no package ${pkg}`);
    parents.push(next);
  }
  const pkgNode = parents.at(-1) as ProtoNode;
  const types = pkgNode.nested ?? {};
  const kept = new Set<string>();
  const queue = [...services];
  for (const s of services) if (!types[s]?.methods) throw new Error(`protobuf package ${pkg} has no service ${s}`);
  const refer = (typeName: string): void => {
    // A reference is relative to the package ('HealthCheck', 'HealthCheck.Type') or qualified
    // ('.google.cloud.compute.v1.HealthCheck'; another package's, e.g. 'google.protobuf.Any', is
    // kept anyway); after the package, its first segment names a package member.
    const name = typeName.replace(/^\./, '');
    const head = (name.startsWith(`${pkg}.`) ? name.slice(pkg.length + 1) : name).split('.')[0] ?? '';
    if (head in types && !kept.has(head)) queue.push(head);
  };
  const visit = (node: ProtoNode): void => {
    for (const m of Object.values(node.methods ?? {})) {
      refer(m.requestType);
      refer(m.responseType);
    }
    for (const f of Object.values(node.fields ?? {})) refer(f.type);
    for (const child of Object.values(node.nested ?? {})) visit(child);
  };
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    const node = types[name];
    if (kept.has(name) || !node) continue;
    kept.add(name);
    visit(node);
  }
  // Rebuild the path from the root down: the package keeps the reached types; its parent keeps only
  // the package (the other API versions); every other level keeps all its members.
  let subset: ProtoNode = { ...pkgNode, nested: Object.fromEntries([...kept].sort().map((n) => [n, types[n] as ProtoNode])) };
  for (let i = path.length - 1; i >= 0; i--) {
    const parent = parents[i] as ProtoNode;
    const segment = path[i] as string;
    const siblings = i === path.length - 1 ? {} : parent.nested;
    subset = { ...parent, nested: { ...siblings, [segment]: subset } };
  }
  return subset;
}
