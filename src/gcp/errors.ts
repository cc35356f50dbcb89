// Compute errors sorted into what the controller does about them (docs/gke-ingress-healthchecks.md §6.4):
// 404 → the backend is not ready yet, requeue; 403 rateLimitExceeded / 429 → back off;
// 400 → the patch is wrong, report PatchFailed with GCP's message; 5xx → retry.

export type GcpErrorClass = 'not_found' | 'rate_limited' | 'invalid' | 'retryable' | 'forbidden' | 'unknown';

export class GcpError extends Error {
  constructor(
    readonly errorClass: GcpErrorClass,
    readonly httpStatus: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'GcpError';
  }
}

/**
 * An Operation not DONE by hcsync's deadline. Not an error GCP made: the patch may still be
 * applied, so the check is re-read (GET) before any re-patch, and a re-patch reuses the requestId
 * (GCP answers a resend with the original Operation, docs/gke-ingress-healthchecks.md §6.2).
 */
export class OperationTimeoutError extends GcpError {
  constructor(message: string) {
    super('retryable', undefined, message);
    this.name = 'OperationTimeoutError';
  }
}

/** gRPC codes google-gax maps HTTP statuses to, for errors that carry no httpStatusCode. */
const HTTP_OF_GRPC: Record<number, number> = { 3: 400, 5: 404, 7: 403, 8: 429, 9: 400, 14: 503, 13: 500, 4: 504, 16: 401 };

interface ErrorLike {
  code?: unknown;
  httpStatusCode?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

export function httpStatusOf(err: unknown): number | undefined {
  const e = (err ?? {}) as ErrorLike;
  if (typeof e.httpStatusCode === 'number') return e.httpStatusCode;
  if (typeof e.status === 'number' && e.status >= 100) return e.status;
  if (typeof e.code === 'number') return e.code >= 100 ? e.code : HTTP_OF_GRPC[e.code];
  return undefined;
}

export function classify(err: unknown): GcpError {
  if (err instanceof GcpError) return err;
  const e = (err ?? {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = httpStatusOf(err);
  // compute 7 drops the legacy errors[].reason; the quota error still names itself in the text.
  const quota =
    (typeof e.reason === 'string' && /rate_?limit|quota_?exceeded/i.test(e.reason)) || /rate ?limit|quota exceeded/i.test(message);
  // An Operation that ended in QUOTA_EXCEEDED / RATE_LIMIT_EXCEEDED is rate limiting whatever
  // httpErrorStatusCode it carries (403, 429, or none).
  const operationQuota = typeof e.reason === 'string' && /\b(QUOTA_EXCEEDED|RATE_LIMIT_EXCEEDED)\b/.test(e.reason);
  let cls: GcpErrorClass;
  if (operationQuota) cls = 'rate_limited';
  else if (status === 404) cls = 'not_found';
  else if (status === 429 || (status === 403 && quota)) cls = 'rate_limited';
  else if (status === 403 || status === 401) cls = 'forbidden';
  else if (status === 400 && /resourceNotReady|not ready/i.test(message)) cls = 'retryable';
  else if (status === 400 || status === 412) cls = 'invalid';
  else if (status !== undefined && status >= 500) cls = 'retryable';
  else if (status === undefined && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|fetch failed/i.test(message)) cls = 'retryable';
  else cls = 'unknown';
  return new GcpError(cls, status, message);
}
