// What a reconcile returns — its one error channel — and the error policy that turns it into
// what the work queue does next (kube-rs `Action` + `error_policy`; controller-runtime `Result`
// + `TerminalError`). Reconcile never throws: every failure is an `error` outcome.
import type { BackoffSchedule } from '../lib/backoff.js';
import { GcpError, type GcpErrorClass } from '../gcp/errors.js';
import type { Requeue } from './workqueue.js';

export type Outcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeueAfter'; readonly ms: number; readonly why: string }
  | { readonly kind: 'error'; readonly error: Error };

/** Transient failures: 1 s, 2 s, 4 s … at most 5 min, per key (client-go's default item backoff). */
export const RETRY_BACKOFF: BackoffSchedule = { baseMs: 1000, maxMs: 5 * 60_000 };
/** Quota and permission errors do not clear in a second: 15 s, 30 s … at most 5 min. */
export const SLOW_BACKOFF: BackoffSchedule = { baseMs: 15_000, maxMs: 5 * 60_000 };

/** The class of a reconcile error: a GcpError's own; anything else (e.g. a failed status write) is `unknown`. */
export function errorClassOf(error: Error): GcpErrorClass {
  return error instanceof GcpError ? error.errorClass : 'unknown';
}

/**
 * What to do after a failed reconcile, by error class. `invalid` (GCP's 400) is terminal: the
 * same request fails again, so the key waits for a change or the next resync instead of a hot
 * retry. `rate_limited` and `forbidden` back off slowly; everything else retries with per-key
 * exponential backoff.
 */
export function errorPolicy(error: Error): Requeue {
  switch (errorClassOf(error)) {
    case 'invalid':
      return { kind: 'forget' };
    case 'rate_limited':
    case 'forbidden':
      return { kind: 'backoff', schedule: SLOW_BACKOFF };
    case 'not_found':
    case 'retryable':
    case 'unknown':
      return { kind: 'backoff', schedule: RETRY_BACKOFF };
  }
}

/** The work queue's decision for a reconcile outcome: forget, requeue after the asked delay, or the error policy's. */
export function requeueFor(outcome: Outcome): Requeue {
  switch (outcome.kind) {
    case 'done':
      return { kind: 'forget' };
    case 'requeueAfter':
      return { kind: 'after', ms: outcome.ms };
    case 'error':
      return errorPolicy(outcome.error);
  }
}

/** Whether the error policy gives up on this error until something changes. */
export function isTerminal(error: Error): boolean {
  return errorPolicy(error).kind === 'forget';
}
