// A multimap of string keys (index key → member keys) whose one-member entries are the member
// itself, not a Set: most entries of hcsync's indexes hold one key (an Ingress backs one Service,
// a Service is anchored alone on its `app` pair), and a Set of one costs ~180 B of heap against a
// string's 0 (it is shared with the member). At 5,000 Services that was ~2.7 MiB (bench:steady).

/** member keys of one index key: one key as is, more as a Set. */
export type Members = string | Set<string>;

/** Adds `member` under `key`. */
export function addMember(map: Map<string, Members>, key: string, member: string): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, member);
  else if (typeof cur === 'string') {
    if (cur !== member) map.set(key, new Set([cur, member]));
  } else cur.add(member);
}

/** Removes `member` from under `key`; a key left with no member is deleted, one left with one member holds it as is. */
export function removeMember(map: Map<string, Members>, key: string, member: string): void {
  const cur = map.get(key);
  if (cur === undefined) return;
  if (typeof cur === 'string') {
    if (cur === member) map.delete(key);
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
  return cur === undefined ? 0 : typeof cur === 'string' ? 1 : cur.size;
}
