// Patches in flight: reserved by a reconcile, waiting in the write limiter, or sent and waiting for
// their Operation. A reconcile worker does not wait for an Operation (GCP takes seconds per
// Operation; four workers each blocked on one made convergence latency-bound, issue 11): it sends
// the patch, hands the wait to this tracker and returns, and the Service is reconciled again when
// the Operation settles. Two rules:
// - One patch per check at a time: a check is reserved synchronously, before anything is sent, so
//   a second reconcile (another Service sharing the check, a resync, an event) sees it and waits
//   for the first instead of sending a second PATCH.
// - Bounded: at most `limit` patches hold a slot (queued in the write limiter or awaiting their
//   Operation); a reservation beyond that waits for a free slot before it is sent. controller.ts
//   sizes the bound at --gcp-write-qps × the Operation deadline, so it never slows the pace for
//   Operations that finish within the deadline. The wait for a slot does not hold a reconcile
//   worker either (reconcile.ts applyPatch): with four workers each blocked on a slot, passes ran at
//   the write pace, and the report passes of settled patches waited behind the rest of a resync —
//   at S=5,000, conditions were written up to S/qps after their patch (issue 11).

/** One check's patch in flight: which Service (and port entry) sent it, and which other Services wait for it. */
export interface InFlightPatch {
  readonly key: string;
  readonly entryId: string;
  readonly waiting: Set<string>;
  acquired: boolean;
}

/** The checks with a patch in flight, and the bounded slots they hold. */
export class PatchesInFlight {
  private readonly byCheck = new Map<string, InFlightPatch>();
  private readonly slotWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private used = 0;

  constructor(readonly limit: number) {}

  /** Checks with a patch in flight (reserved, queued or sent). */
  get size(): number {
    return this.byCheck.size;
  }

  /** The patch in flight on this check, if any. */
  get(check: string): InFlightPatch | undefined {
    return this.byCheck.get(check);
  }

  /**
   * Reserves the check for `key`'s patch, synchronously (before any await), so no other reconcile
   * sends one meanwhile. Undefined when a patch is in flight already: then `key` is told when it settles.
   */
  reserve(check: string, key: string, entryId: string): InFlightPatch | undefined {
    const have = this.byCheck.get(check);
    if (have) {
      if (have.key !== key) have.waiting.add(key);
      return undefined;
    }
    const p: InFlightPatch = { key, entryId, waiting: new Set(), acquired: false };
    this.byCheck.set(check, p);
    return p;
  }

  /** Takes one of the `limit` slots for the reservation if one is free now (and nobody waits for one); false otherwise. */
  tryAcquire(p: InFlightPatch): boolean {
    if (this.used >= this.limit || this.slotWaiters.length > 0) return false;
    this.used++;
    p.acquired = true;
    return true;
  }

  /** Resolves once the reservation holds one of the `limit` slots (first come, first served). */
  async acquire(p: InFlightPatch): Promise<void> {
    if (this.tryAcquire(p)) return;
    // release() hands its slot straight to the first waiter, so no tryAcquire() takes it meanwhile.
    await new Promise<void>((r) => this.slotWaiters.push(r));
    p.acquired = true;
  }

  /** Ends the check's patch (settled, failed or abandoned); returns the Service keys to look again: the sender's, then those that waited. */
  release(check: string): string[] {
    const p = this.byCheck.get(check);
    if (!p) return [];
    this.byCheck.delete(check);
    if (p.acquired) {
      const next = this.slotWaiters.shift();
      if (next) next();
      else this.used--;
    }
    if (this.byCheck.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    return [p.key, ...p.waiting];
  }

  /** Resolves when no patch is in flight. */
  idle(): Promise<void> {
    if (this.byCheck.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}
