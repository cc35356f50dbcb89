// The checks reconcile re-reads once (after a patch, or when a BackendConfig grace ends), indexed
// by Service key as well as by check: a pass looks up only its own Service's re-reads. Walking
// every pending re-read on every pass cost O(pending) per Service — right after a 5,000-check
// convergence, 25 million iterations in the next resync (issue 11).
import type { Scope } from '../model/health-check.js';

/** A re-read of one check due at `dueAt`: after a patch (re-verify) or at the end of a BackendConfig grace. */
export interface Reread {
  /** The Service key the re-read is for. */
  readonly key: string;
  readonly name: string;
  readonly scope: Scope;
  readonly dueAt: number;
  /** Must be a GET of this check now (an Operation not confirmed in time): no list stands in for it. */
  readonly fresh?: boolean;
  /** Left to a coalesced list once due (reconcile.ts rereadDue): that list's completion brings the Service back, not the clock. */
  readonly viaList?: boolean;
}

/**
 * Pending re-reads, one per check (`ck`), bounded: past `limit` checks the oldest entry is
 * dropped, as the other memos of reconcile are. Each check belongs to one Service key at a time.
 */
export class PendingRereads {
  private readonly byCheck = new Map<string, Reread>();
  private readonly byKey = new Map<string, Set<string>>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.byCheck.size;
  }

  /** Schedules (or moves) the re-read of check `ck` for Service `r.key`. */
  set(ck: string, r: Reread): void {
    const have = this.byCheck.get(ck);
    if (have?.key === r.key && have.dueAt === r.dueAt) return;
    if (!have && this.byCheck.size >= this.limit) {
      const oldest = this.byCheck.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    if (have && have.key !== r.key) this.unindex(have.key, ck);
    this.byCheck.set(ck, r);
    let cks = this.byKey.get(r.key);
    if (!cks) this.byKey.set(r.key, (cks = new Set()));
    cks.add(ck);
  }

  /** Whether this Service has any re-read pending (due or not). */
  pending(key: string): boolean {
    return this.byKey.has(key);
  }

  /**
   * This Service's re-reads due at `nowMs`, in the order they were scheduled. They stay pending
   * until take()n, so one whose GET is never made (an earlier GET of the pass failed) is kept.
   */
  due(key: string, nowMs: number): [string, Reread][] {
    const due: [string, Reread][] = [];
    for (const ck of this.byKey.get(key) ?? []) {
      const r = this.byCheck.get(ck);
      if (r && r.dueAt <= nowMs) due.push([ck, r]);
    }
    return due;
  }

  /** Removes the re-read of `ck` if it is still this Service's and due at `nowMs`; returns it. */
  take(ck: string, key: string, nowMs: number): Reread | undefined {
    const r = this.byCheck.get(ck);
    if (r?.key !== key || r.dueAt > nowMs) return undefined;
    this.delete(ck);
    return r;
  }

  /** Leaves the due re-read of `ck` to a list (kept until take()n). */
  leaveToList(ck: string): void {
    const r = this.byCheck.get(ck);
    if (r && !r.viaList) this.byCheck.set(ck, { ...r, viaList: true });
  }

  /**
   * When this Service's soonest pending re-read is due (Infinity when none). Re-reads left to a
   * list do not count: the list's completion brings the Service back, not the clock.
   */
  soonest(key: string): number {
    let at = Infinity;
    for (const ck of this.byKey.get(key) ?? []) {
      const r = this.byCheck.get(ck);
      if (r && !r.viaList) at = Math.min(at, r.dueAt);
    }
    return at;
  }

  /** Drops every re-read of this Service. */
  forget(key: string): void {
    for (const ck of this.byKey.get(key) ?? []) this.byCheck.delete(ck);
    this.byKey.delete(key);
  }

  private delete(ck: string): void {
    const r = this.byCheck.get(ck);
    if (!r) return;
    this.byCheck.delete(ck);
    this.unindex(r.key, ck);
  }

  private unindex(key: string, ck: string): void {
    const cks = this.byKey.get(key);
    cks?.delete(ck);
    if (cks?.size === 0) this.byKey.delete(key);
  }
}
