// Compute long-running operations. A write returns a PENDING Operation at once; it turns RUNNING,
// then DONE after `delayMs`, and only then is the write's effect applied. A failed operation is
// still DONE, with `error.errors[]` and `httpErrorStatusCode`, exactly the trap real clients must
// handle (kubernetes/kubernetes#4938).
import { randomBytes } from 'node:crypto';
import { ApiError, httpErrorMessage, notFound, operationErrorCode } from './errors.js';
import { clone } from './merge-patch.js';
import { allocateId, jsonText, scopeLink, type JsonObject, type Scope, type Store } from './store.js';

export interface OperationSpec {
  scope: Scope;
  operationType: string;
  targetLink: string;
  targetId?: string;
  /** The write's effect; throwing an ApiError fails the operation instead. */
  apply: () => void;
  /** An injected operation-level failure: the effect is not applied. */
  failure?: { status: number; reason: string; message?: string };
  /** An injected operation that never finishes: RUNNING for ever, the effect never applied. */
  hang?: boolean;
}

interface Pending {
  timers: NodeJS.Timeout[];
  waiters: (() => void)[];
}

export class Operations {
  private readonly pending = new Map<string, Pending>();
  /** How long `wait` blocks at most; GCE documents about two minutes. */
  waitCapMs = 120_000;

  constructor(
    private readonly store: Store,
    private readonly delayMs: number,
    private readonly log: (line: string) => void,
    /** Runs after an effect is applied and before DONE is reported (the load balancer follows URL maps). */
    private readonly onApplied: () => Promise<void> = () => Promise.resolve(),
  ) {}

  start(spec: OperationSpec): JsonObject {
    const name = `operation-${Date.now()}-${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
    const key = `${spec.scope}/operations/${name}`;
    const now = new Date().toISOString();
    const op: JsonObject = {
      kind: 'compute#operation',
      id: allocateId(this.store),
      name,
      operationType: spec.operationType,
      targetLink: spec.targetLink,
      status: 'PENDING',
      user: 'hcsync-test@example.iam.gserviceaccount.com',
      progress: 0,
      insertTime: now,
      selfLink: `${scopeLink(this.store, spec.scope)}/operations/${name}`,
    };
    if (spec.targetId !== undefined) op['targetId'] = spec.targetId;
    if (spec.scope.startsWith('regions/')) op['region'] = scopeLink(this.store, spec.scope);
    if (spec.scope.startsWith('zones/')) op['zone'] = scopeLink(this.store, spec.scope);
    this.store.operations.set(key, op);

    const entry: Pending = { timers: [], waiters: [] };
    this.pending.set(key, entry);
    if (spec.hang) {
      // GCE has operations stuck in RUNNING for a long time; `wait` keeps answering RUNNING after its cap.
      op['status'] = 'RUNNING';
      op['startTime'] = new Date().toISOString();
      this.log(`compute: operation ${name} ${spec.operationType} will never finish (injected)`);
      return clone(op);
    }
    // One timer chain rather than two timers: Node does not promise order across durations, and
    // a late RUNNING must never overwrite DONE.
    const half = Math.floor(this.delayMs / 2);
    entry.timers.push(
      setTimeout(() => {
        if (op['status'] === 'PENDING') {
          op['status'] = 'RUNNING';
          op['startTime'] = new Date().toISOString();
        }
        entry.timers.push(setTimeout(() => void this.complete(key, op, spec), this.delayMs - half));
      }, half),
    );
    return clone(op);
  }

  private async complete(key: string, op: JsonObject, spec: OperationSpec): Promise<void> {
    let failure: { status: number; reason: string; message: string } | undefined;
    if (spec.failure) {
      failure = { ...spec.failure, message: spec.failure.message ?? `Injected operation failure: ${spec.failure.reason}` };
    } else {
      try {
        spec.apply();
      } catch (err) {
        failure =
          err instanceof ApiError
            ? { status: err.status, reason: err.reason, message: err.message }
            : { status: 500, reason: 'internalError', message: String(err) };
      }
      await this.onApplied();
    }
    op['status'] = 'DONE';
    op['progress'] = 100;
    op['startTime'] ??= new Date().toISOString();
    op['endTime'] = new Date().toISOString();
    if (failure) {
      op['error'] = { errors: [{ code: operationErrorCode(failure.reason), message: failure.message }] };
      op['httpErrorStatusCode'] = failure.status;
      op['httpErrorMessage'] = httpErrorMessage(failure.status);
    }
    this.log(
      `compute: operation ${jsonText(op['name'])} ${jsonText(op['operationType'])} DONE${failure ? ` with error ${failure.reason}` : ''}`,
    );
    const entry = this.pending.get(key);
    this.pending.delete(key);
    for (const wake of entry?.waiters ?? []) wake();
  }

  /** 'done' (effect applied), 'failed' (DONE with error), 'running' (not DONE yet), undefined for an unknown name. */
  outcome(name: string): 'done' | 'failed' | 'running' | undefined {
    for (const [key, op] of this.store.operations) {
      if (!key.endsWith(`/operations/${name}`)) continue;
      if (op['status'] !== 'DONE') return 'running';
      return op['error'] === undefined ? 'done' : 'failed';
    }
    return undefined;
  }

  get(scope: Scope, name: string): JsonObject {
    const op = this.store.operations.get(`${scope}/operations/${name}`);
    if (!op) throw notFound(`projects/${this.store.project}/${scope}/operations/${name}`);
    return clone(op);
  }

  /** Resolves when the operation is DONE, or with its current state after `waitCapMs`. */
  async wait(scope: Scope, name: string): Promise<JsonObject> {
    const key = `${scope}/operations/${name}`;
    const entry = this.pending.get(key);
    if (entry) {
      await new Promise<void>((resolve) => {
        const cap = setTimeout(resolve, this.waitCapMs);
        entry.waiters.push(() => {
          clearTimeout(cap);
          resolve();
        });
      });
    }
    return this.get(scope, name);
  }

  /** Cancels timers and releases blocked `wait` calls so the server can close. */
  stop(): void {
    for (const entry of this.pending.values()) {
      for (const t of entry.timers) clearTimeout(t);
      for (const wake of entry.waiters) wake();
    }
    this.pending.clear();
  }
}
