// Sharing of equal slim parts between cached objects (issue 11: heap per cached object). The
// Pods of one workload carry the same labels and the same container spec (every replica of a
// ReplicaSet is stamped from one template), so the informer cache keeps one labels object and one
// spec for all of them instead of one per Pod. Slim objects are immutable (model/kube.ts), so a
// shared part can never be changed through one of its holders.
//
// Bounded: the table holds its objects weakly (WeakRef), so a part no cached object uses any more
// is collected with the last Pod that held it, and the table's dead entries are swept once it has
// doubled since the last sweep — a churn of workloads does not grow it for ever.
import { jsonEqual } from '../lib/json-equal.js';

/** What the table keeps of a shared part: a WeakRef in production, anything with deref() in tests. */
export interface Ref<T> {
  deref(): T | undefined;
}

/** Entries below this are never swept (a sweep is O(table)); above, a sweep runs when the table doubled since the last one. */
const MIN_SWEEP = 256;

/** FNV-1a over a string, kept to 30 bits so that it is a small integer (a Map key without a heap number). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x3fffffff;
}

/**
 * A table of shared, immutable JSON-shaped parts: `intern(v)` returns the part equal to `v` that is
 * already shared (by JSON text, then checked with jsonEqual, so a hash collision never shares
 * unequal parts), or shares `v` itself. Equal parts written with keys in another order may stay
 * apart (only sharing is lost).
 */
export class Interner<T extends object> {
  /** hash of the JSON text → the part(s) with that hash (more than one only on a collision). */
  private readonly table = new Map<number, Ref<T> | Ref<T>[]>();
  private sweepAt = MIN_SWEEP;

  constructor(private readonly ref: (v: T) => Ref<T> = (v) => new WeakRef(v)) {}

  /** The shared part equal to `value` (`value` itself when it is the first of its kind). */
  intern(value: T): T {
    const h = hash(JSON.stringify(value));
    const cur = this.table.get(h);
    if (cur === undefined) {
      this.table.set(h, this.ref(value));
      if (this.table.size >= this.sweepAt) this.sweep();
      return value;
    }
    const refs = Array.isArray(cur) ? cur : [cur];
    for (const r of refs) {
      const v = r.deref();
      if (v !== undefined && jsonEqual(v, value)) return v;
    }
    // A collision, or the part was collected: keep the live ones and add this one.
    const live = refs.filter((r) => r.deref() !== undefined);
    live.push(this.ref(value));
    this.table.set(h, live.length === 1 ? (live[0] as Ref<T>) : live);
    return value;
  }

  /** How many entries the table holds (live or not yet swept), for tests. */
  get size(): number {
    return this.table.size;
  }

  /** Drops the entries whose parts were collected; the next sweep is due when the table has doubled. */
  sweep(): void {
    for (const [h, cur] of this.table) {
      const live = (Array.isArray(cur) ? cur : [cur]).filter((r) => r.deref() !== undefined);
      if (live.length === 0) this.table.delete(h);
      else if (Array.isArray(cur)) this.table.set(h, live.length === 1 ? (live[0] as Ref<T>) : live);
    }
    this.sweepAt = Math.max(MIN_SWEEP, 2 * this.table.size);
  }
}
