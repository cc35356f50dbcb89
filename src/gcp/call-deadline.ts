// Each Compute call's deadline, enforced by a timer that ends with the call. google-gax's REST stub
// (google-gax 6.x, fallbackServiceStub.js) arms `AbortSignal.timeout(ms)` per call with an 'abort'
// listener it never removes; Node keeps a timeout signal that has listeners until its timer fires
// (lib/internal/abort_controller.js, gcPersistentSignals), and the listener's closure holds the whole
// call — request, response streams, parser, gax's retry state — for the rest of the deadline (60 s,
// clients.ts) after the call has finished. At 5,000 Services, a heap snapshot taken as hcsync
// converged held 3,484 finished calls, ~12 MiB of the live heap, gone a minute later (issue 11).
// So the stub is handed no deadline and the deadline is kept here: a timer cleared as soon as the
// call calls back. On expiry the call is cancelled and reported as gax reports an expired deadline
// (a GoogleError with code DEADLINE_EXCEEDED), so gax's retries and hcsync's error classes see the
// same error as before.

/** gax's stub callback: an error, or the decoded response. */
type Callback = (err: unknown, response?: unknown) => void;

/** The call options gax passes a stub method (gRPC's CallOptions: `deadline` is a Date or ms since the epoch). */
interface CallOptions {
  readonly deadline?: unknown;
  readonly [option: string]: unknown;
}

type StubMethod = (request: unknown, metadata: unknown, options: CallOptions | undefined, callback?: Callback) => unknown;

/** Builds the error for a call to `rpc` that did not answer within `timeoutMs` (what gax reports: DEADLINE_EXCEEDED). */
export type DeadlineError = (rpc: string, timeoutMs: number, cause: unknown) => Error;

/** Milliseconds left until `deadline` (0 once passed, as gax clamps it), or undefined without a usable one. */
function msUntil(deadline: unknown, now: number): number | undefined {
  if (deadline === undefined || deadline === null) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(at) ? Math.max(0, Math.trunc(at - now)) : undefined;
}

/** A unary call's canceller (a streaming method returns a stream instead, which has `pipe`). */
function isCanceller(x: unknown): x is { cancel(): void } {
  return typeof x === 'object' && x !== null && typeof (x as { cancel?: unknown }).cancel === 'function' && !('pipe' in x);
}

/**
 * Wraps every method of a google-gax service stub (`GrpcClient.createStub`'s result) so that the
 * call's deadline is enforced by a timer cleared when the call calls back, instead of by the stub's
 * AbortSignal.timeout, which keeps the finished call reachable until the deadline. A streaming
 * method (gax arms no deadline for those) gets no timer either. The stub is changed in place and
 * returned.
 */
export function withOwnDeadlines<S extends object>(stub: S, deadlineError: DeadlineError): S {
  const methods = stub as Record<string, unknown>;
  for (const [rpc, value] of Object.entries(methods)) {
    if (typeof value !== 'function') continue;
    const method = value as StubMethod;
    methods[rpc] = (request: unknown, metadata: unknown, options: CallOptions | undefined, callback?: Callback): unknown => {
      const timeoutMs = msUntil(options?.deadline, Date.now());
      if (timeoutMs === undefined || typeof callback !== 'function') return method(request, metadata, options, callback);
      const { deadline: _armedHere, ...withoutDeadline } = options ?? {};
      let timer: NodeJS.Timeout | undefined;
      // An object, not a `let`: the callback may run before `method` returns (TypeScript cannot see that).
      const state = { settled: false, timedOut: false };
      const call = method(request, metadata, withoutDeadline, (err, response) => {
        state.settled = true;
        clearTimeout(timer);
        if (state.timedOut) callback(deadlineError(rpc, timeoutMs, err));
        else callback(err, response);
      });
      if (isCanceller(call) && !state.settled) {
        // Not yet called back (a request that cannot be encoded calls back at once): arm the deadline.
        timer = setTimeout(() => {
          state.timedOut = true;
          call.cancel();
        }, timeoutMs);
      }
      return call;
    };
  }
  return stub;
}
