// A multimap of string keys (index key → member keys) whose one-member entries are the member
// itself, not a Set: most entries of hcsync's indexes hold one key (an Ingress backs one Service,
// a Service is anchored alone on its `app` pair), and a Set of one costs ~180 B of heap against a
// string's 0 (it is shared with the member). At 5,000 Services that was ~2.7 MiB (bench:steady).
// A few members (the replicas of a workload on its `app` and `pod-template-hash` pairs) are an
// exact-length array, replaced rather than changed (72 B for three, a Set of three ~150 B); past
// SMALL members, a Set.

/** member keys of one index key: one key as is, a few as an array, more as a Set. */
export type Members = string | readonly string[] | Set<string>;

/** Up to this many members are an array (a lookup scans it); more are a Set. */
const SMALL = 8;

/** Adds `member` under `key`. */
export function addMember(map: Map<string, Members>, key: string, member: string): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, member);
  else if (typeof cur === 'string') {
    if (cur !== member) map.set(key, [cur, member]);
  } else if (cur instanceof Set) cur.add(member);
  else if (!cur.includes(member)) map.set(key, cur.length < SMALL ? exact(cur, -1, member) : new Set([...cur, member]));
}

/** A copy of `cur` of exact length (an array grown by push keeps spare room), without the element at `skip` (-1: none), with `add` after. */
function exact(cur: readonly string[], skip: number, add?: string): string[] {
  const out = new Array<string>(cur.length - (skip >= 0 ? 1 : 0) + (add === undefined ? 0 : 1));
  let j = 0;
  for (let i = 0; i < cur.length; i++) if (i !== skip) out[j++] = cur[i] as string;
  if (add !== undefined) out[j] = add;
  return out;
}

/** Removes `member` from under `key`; a key left with no member is deleted, one left with one member holds it as is. */
export function removeMember(map: Map<string, Members>, key: string, member: string): void {
  const cur = map.get(key);
  if (cur === undefined) return;
  if (typeof cur === 'string') {
    if (cur === member) map.delete(key);
    return;
  }
  if (!(cur instanceof Set)) {
    const at = cur.indexOf(member);
    if (at < 0) return;
    map.set(key, cur.length === 2 ? (cur[1 - at] as string) : exact(cur, at));
    return;
  }
  cur.delete(member);
  if (cur.size === 1) map.set(key, cur.values().next().value as string);
  else if (cur.size === 0) map.delete(key);
}

/** The members under `key` (none when absent). */
export function membersOf(map: Map<string, Members>, key: string): Iterable<string> {
  const cur = map.get(key);
  return cur === undefined ? [] : typeof cur === 'string' ? [cur] : cur;
}

/** How many members are under `key`. */
export function memberCount(map: Map<string, Members>, key: string): number {
  const cur = map.get(key);
  return cur === undefined ? 0 : typeof cur === 'string' ? 1 : cur instanceof Set ? cur.size : cur.length;
}
