// withOwnDeadlines over a fake gax stub: what the stub is handed, when a call is cancelled, and
// what its caller is told.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { withOwnDeadlines } from '../../src/gcp/call-deadline.js';

type Callback = (err: unknown, response?: unknown) => void;

interface FakeCall {
  options: unknown;
  callback: Callback;
  cancels: number;
}

/** A stub whose `get` records each call and returns what `shape` says: a canceller, a stream, or one that calls back at once. */
function fakeStub(shape: 'unary' | 'stream' | 'sync-error') {
  const calls: FakeCall[] = [];
  const stub = {
    get(_request: unknown, _metadata: unknown, options: unknown, callback: Callback): unknown {
      const call: FakeCall = { options, callback, cancels: 0 };
      calls.push(call);
      if (shape === 'sync-error') {
        callback(new Error('cannot encode'));
        return { cancel: () => call.cancels++ };
      }
      const cancel = () => {
        call.cancels++;
        callback(Object.assign(new Error('cancelled'), { code: 1 }));
      };
      return shape === 'stream' ? { cancel, pipe: () => undefined } : { cancel };
    },
  };
  const wrapped = withOwnDeadlines(stub, (rpc, ms, cause) => Object.assign(new Error(`${rpc} ${ms}`), { code: 4, cause }));
  return { calls, get: (req: unknown, md: unknown, o: unknown, cb: Callback): unknown => wrapped.get(req, md, o, cb) };
}

function recorder() {
  const seen: { err: unknown; response: unknown }[] = [];
  return { seen, cb: (err: unknown, response?: unknown) => seen.push({ err, response }) };
}

describe('withOwnDeadlines (gcp/call-deadline.ts)', () => {
  it('hands the stub the options without the deadline, and a call that answers in time is reported as is, never cancelled', async () => {
    const { calls, get } = fakeStub('unary');
    const { seen, cb } = recorder();
    get({}, {}, { deadline: Date.now() + 40, retry: 'r' }, cb);
    assert.deepEqual(calls[0]?.options, { retry: 'r' });
    calls[0]?.callback(null, 'answer');
    await sleep(80);
    assert.deepEqual(seen, [{ err: null, response: 'answer' }]);
    assert.equal(calls[0]?.cancels, 0);
  });

  it('cancels a call past its deadline and reports the deadline error, with the cancellation as its cause (a Date deadline too)', async () => {
    const { calls, get } = fakeStub('unary');
    const { seen, cb } = recorder();
    get({}, {}, { deadline: new Date(Date.now() + 30) }, cb);
    await sleep(80);
    assert.equal(calls[0]?.cancels, 1);
    assert.equal(seen.length, 1);
    const err = seen[0]?.err as Error & { code?: number; cause?: Error };
    assert.equal(err.code, 4);
    assert.match(err.message, /^get \d+$/);
    assert.equal(err.cause?.message, 'cancelled');
  });

  const untouched: [string, 'unary' | 'stream' | 'sync-error', object | undefined][] = [
    ['a call without a deadline', 'unary', {}],
    ['a call without options', 'unary', undefined],
    ['a streaming call (gax arms no deadline for those)', 'stream', { deadline: Date.now() + 30 }],
    ['a call that called back at once (a request that cannot be encoded)', 'sync-error', { deadline: Date.now() + 30 }],
  ];
  for (const [name, shape, options] of untouched) {
    it(`arms no timer for ${name}`, async () => {
      const { calls, get } = fakeStub(shape);
      get({}, {}, options, () => undefined);
      await sleep(80);
      assert.equal(calls[0]?.cancels, 0);
    });
  }
});
