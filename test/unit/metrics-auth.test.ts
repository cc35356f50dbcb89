// --metrics-auth's check, with the API server's two reviews faked (the real ones are exercised
// in test/e2e/deployment-contract.test.ts): 401 without a token or with one the API server does
// not accept, 403 when the user may not get /metrics, 200 when it may; answers cached per token
// for the TTL, errors not cached, the cache bounded.
import assert from 'node:assert/strict';
import { MetricsAuth, type Reviews, type UserInfo } from '../../src/server/metrics-auth.js';

class FakeReviews implements Reviews {
  calls = { authenticate: 0, authorize: 0 };
  failNext = false;
  readonly asked: { user: UserInfo; verb: string; path: string }[] = [];
  constructor(private readonly users: Record<string, { user: UserInfo; mayGetMetrics: boolean }>) {}
  authenticate(token: string): Promise<UserInfo | undefined> {
    this.calls.authenticate++;
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('connection refused'));
    }
    return Promise.resolve(this.users[token]?.user);
  }
  authorize(user: UserInfo, verb: string, path: string): Promise<boolean> {
    this.calls.authorize++;
    this.asked.push({ user, verb, path });
    return Promise.resolve(Object.values(this.users).some((u) => u.user.username === user.username && u.mayGetMetrics));
  }
}

const prometheus = { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts', 'system:authenticated'] };
const other = { username: 'system:serviceaccount:shop:web', groups: ['system:authenticated'] };

function setup() {
  let now = 1_000_000;
  const reviews = new FakeReviews({ good: { user: prometheus, mayGetMetrics: true }, other: { user: other, mayGetMetrics: false } });
  const auth = new MetricsAuth(reviews, '/metrics', { ttlMs: 10_000, maxEntries: 3, now: () => now });
  return { reviews, auth, advance: (ms: number) => (now += ms) };
}

describe('metrics auth (TokenReview + SubjectAccessReview)', () => {
  const cases: [what: string, authorization: string | undefined, status: number, message: RegExp][] = [
    ['no Authorization header', undefined, 401, /bearer token is required/],
    ['a Basic credential', 'Basic dXNlcjpwYXNz', 401, /bearer token is required/],
    ['an empty bearer token', 'Bearer ', 401, /bearer token is required/],
    ['a token the API server does not accept', 'Bearer forged', 401, /not accepted/],
    ['a valid token without get /metrics', 'Bearer other', 403, /system:serviceaccount:shop:web may not get \/metrics/],
    ['a valid token allowed to get /metrics', 'Bearer good', 200, /^$/],
    ['the scheme in lower case', 'bearer good', 200, /^$/],
  ];
  for (const [what, authorization, status, message] of cases) {
    it(`${what} → ${status}`, async () => {
      const { auth } = setup();
      const d = await auth.check(authorization === undefined ? {} : { authorization });
      assert.equal(d.status, status);
      assert.match('message' in d ? d.message : '', message);
    });
  }

  it('asks for verb get on the non-resource path /metrics, as the authenticated user with its groups', async () => {
    const { auth, reviews } = setup();
    await auth.check({ authorization: 'Bearer good' });
    assert.deepEqual(reviews.asked, [{ user: prometheus, verb: 'get', path: '/metrics' }]);
  });

  it('reuses an answer for the same token until the TTL ends, then asks again', async () => {
    const { auth, reviews, advance } = setup();
    for (let i = 0; i < 5; i++) assert.equal((await auth.check({ authorization: 'Bearer good' })).status, 200);
    assert.deepEqual(reviews.calls, { authenticate: 1, authorize: 1 });
    for (let i = 0; i < 5; i++) assert.equal((await auth.check({ authorization: 'Bearer forged' })).status, 401);
    assert.deepEqual(reviews.calls, { authenticate: 2, authorize: 1 }, 'a refusal is cached too');
    advance(10_001);
    await auth.check({ authorization: 'Bearer good' });
    assert.deepEqual(reviews.calls, { authenticate: 3, authorize: 2 });
  });

  it('an API error is a 500 and is not cached', async () => {
    const { auth, reviews } = setup();
    reviews.failNext = true;
    const d = await auth.check({ authorization: 'Bearer good' });
    assert.equal(d.status, 500);
    assert.equal((await auth.check({ authorization: 'Bearer good' })).status, 200);
    assert.equal(reviews.calls.authenticate, 2);
  });

  it('remembers at most maxEntries tokens', async () => {
    const { auth, reviews } = setup();
    for (const t of ['a', 'b', 'c', 'd', 'e']) await auth.check({ authorization: `Bearer ${t}` });
    assert.equal((auth as unknown as { cache: Map<string, unknown> }).cache.size, 3);
    await auth.check({ authorization: 'Bearer e' });
    assert.equal(reviews.calls.authenticate, 5, 'the newest token is still cached');
  });
});
