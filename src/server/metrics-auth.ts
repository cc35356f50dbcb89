// --metrics-auth: /metrics answers only a caller whose bearer token the API server authenticates
// (TokenReview) and authorizes to `get` the non-resource URL /metrics (SubjectAccessReview), as
// controller-runtime's metrics filter (filters.WithAuthenticationAndAuthorization) does. Both
// answers are cached briefly per token (as its hash), so a scraper every 30 s costs two reviews a
// minute at most and a burst of scrapes costs none; the cache is bounded so random tokens cannot
// grow it. hcsync needs `create` on tokenreviews and subjectaccessreviews for this.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '../kube/client-node.js';

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The two questions asked of the API server; KubeReviews asks them for real, tests may fake them. */
export interface Reviews {
  /** The user the token belongs to, or undefined when the API server does not accept it. */
  authenticate(token: string): Promise<UserInfo | undefined>;
  /** May the user `verb` the non-resource `path`? */
  authorize(user: UserInfo, verb: string, path: string): Promise<boolean>;
}

export class KubeReviews implements Reviews {
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.authn = kc.makeApiClient(AuthenticationV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  async authenticate(token: string): Promise<UserInfo | undefined> {
    const review = await this.authn.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = review.status?.user;
    if (review.status?.authenticated !== true || !user?.username) return undefined;
    return {
      username: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.groups ? { groups: user.groups } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
    };
  }

  async authorize(user: UserInfo, verb: string, path: string): Promise<boolean> {
    const review = await this.authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: [...user.groups] } : {}),
          ...(user.extra ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) } : {}),
          nonResourceAttributes: { path, verb },
        },
      },
    });
    return review.status?.allowed === true;
  }
}

export type AuthDecision = { readonly status: 200 } | { readonly status: 401 | 403 | 500; readonly message: string };

export interface MetricsAuthOptions {
  /** How long an answer (allowed or not) is reused for the same token; controller-runtime's delegating authn/authz use 10 s. */
  readonly ttlMs?: number;
  /** At most this many tokens are remembered. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** Checks the Authorization header of a request for `get path`. */
export class MetricsAuth {
  private readonly cache = new Map<string, { readonly until: number; readonly decision: AuthDecision }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly reviews: Reviews,
    private readonly path = '/metrics',
    opts: MetricsAuthOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.maxEntries = opts.maxEntries ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  async check(headers: IncomingHttpHeaders): Promise<AuthDecision> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (!m?.[1]) return { status: 401, message: 'Unauthorized: a bearer token is required' };
    const key = createHash('sha256').update(m[1]).digest('hex');
    const now = this.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.decision;
    let decision: AuthDecision;
    try {
      const user = await this.reviews.authenticate(m[1]);
      if (!user) decision = { status: 401, message: 'Unauthorized: the token was not accepted' };
      else if (await this.reviews.authorize(user, 'get', this.path)) decision = { status: 200 };
      else decision = { status: 403, message: `Forbidden: ${user.username} may not get ${this.path}` };
    } catch (e) {
      // Not cached: the next scrape asks again.
      return { status: 500, message: `authentication or authorization failed: ${(e as Error).message}` };
    }
    if (this.cache.size >= this.maxEntries) {
      for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
      const oldest = this.cache.keys().next();
      if (this.cache.size >= this.maxEntries && !oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, { until: now + this.ttlMs, decision });
    return decision;
  }
}
