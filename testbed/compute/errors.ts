// Compute API errors in the wire shape the real service uses, so the real client parses them the
// way it parses production errors (google-gax maps `error.code` to a gRPC code, and promotes a
// `google.rpc.ErrorInfo` detail to `GoogleError.reason`).

/** One entry of the legacy `errors[]` array that Compute still sends. */
interface LegacyErrorItem {
  domain: string;
  reason: string;
  message: string;
}

export interface ErrorBody {
  error: {
    code: number;
    message: string;
    errors: LegacyErrorItem[];
    status?: string;
    details?: Record<string, unknown>[];
  };
}

/** Thrown anywhere in a request handler; the server turns it into an HTTP error response. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    // Compute uses domain 'global' for almost everything; quota errors come from 'usageLimits'.
    readonly domain = 'global',
    readonly extra: Pick<ErrorBody['error'], 'status' | 'details'> = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ domain: this.domain, reason: this.reason, message: this.message }],
        ...this.extra,
      },
    };
  }
}

export function notFound(resourcePath: string): ApiError {
  return new ApiError(404, 'notFound', `The resource '${resourcePath}' was not found`);
}

export function invalid(field: string, value: unknown, why: string): ApiError {
  return new ApiError(400, 'invalid', `Invalid value for field '${field}': '${String(value)}'. ${why}`);
}

export function badRequest(reason: string, message: string): ApiError {
  return new ApiError(400, reason, message);
}

export function alreadyExists(resourcePath: string): ApiError {
  return new ApiError(409, 'alreadyExists', `The resource '${resourcePath}' already exists`);
}

export function inUse(kind: string, resourcePath: string, user: string): ApiError {
  return new ApiError(400, 'resourceInUseByAnotherResource', `The ${kind} resource '${resourcePath}' is already being used by '${user}'`);
}

export function conditionNotMet(message: string): ApiError {
  return new ApiError(412, 'conditionNotMet', message);
}

/**
 * The documented Compute rate-quota error. Real quota errors also carry an ErrorInfo detail
 * (reason RATE_LIMIT_EXCEEDED); we send it too because it is the only place compute 7.x's
 * GoogleError exposes a reason.
 */
export function rateLimitExceeded(project: string, limit: number, per: 'minute' | 'second' = 'minute'): ApiError {
  const [metric, unit] = per === 'minute' ? ['Queries', 'min'] : ['Write requests', 's'];
  const message =
    `Quota exceeded for quota metric '${metric}' and limit '${metric} per ${per}' of service ` +
    `'compute.googleapis.com' for consumer 'project:${project}' (stand-in limit ${limit}/${unit}).`;
  return new ApiError(403, 'rateLimitExceeded', message, 'usageLimits', {
    status: 'PERMISSION_DENIED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          service: 'compute.googleapis.com',
          consumer: `projects/${project}`,
          quota_metric: 'compute.googleapis.com/default',
          quota_limit: 'defaultPerMinutePerProject',
        },
      },
    ],
  });
}

/** HTTP reason phrases as Compute puts them into `Operation.httpErrorMessage`. */
export function httpErrorMessage(status: number): string {
  const phrases: Record<number, string> = {
    400: 'BAD REQUEST',
    403: 'FORBIDDEN',
    404: 'NOT FOUND',
    409: 'CONFLICT',
    412: 'PRECONDITION FAILED',
    429: 'TOO MANY REQUESTS',
    500: 'INTERNAL SERVER ERROR',
    503: 'SERVICE UNAVAILABLE',
  };
  return phrases[status] ?? 'ERROR';
}

/** `resourceNotReady` → `RESOURCE_NOT_READY`: operation errors use upper snake case codes. */
export function operationErrorCode(reason: string): string {
  return reason.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
