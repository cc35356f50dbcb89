// Pending re-reads (controller/rereads.ts), indexed by Service key: a pass sees only its own
// Service's re-reads, due ones in the order they were scheduled, and a check re-scheduled for
// another Service moves with its key (issue 11: a pass no longer walks every pending re-read).
import assert from 'node:assert/strict';
import { PendingRereads, type Reread } from '../../src/controller/rereads.js';

const g = { kind: 'global' } as const;
const rr = (key: string, name: string, dueAt: number): Reread => ({ key, name, scope: g, dueAt });
const names = (list: [string, Reread][]) => list.map(([ck]) => ck);

describe('PendingRereads', () => {
  it('gives a Service only its own due re-reads, in schedule order, and keeps the others', () => {
    const p = new PendingRereads(100);
    p.set('global/c', rr('ns/a', 'c', 30));
    p.set('global/x', rr('ns/b', 'x', 10));
    p.set('global/a', rr('ns/a', 'a', 10));
    p.set('global/b', rr('ns/a', 'b', 20));
    const cases: { key: string; now: number; due: string[]; soonest: number }[] = [
      { key: 'ns/a', now: 5, due: [], soonest: 10 },
      { key: 'ns/a', now: 20, due: ['global/a', 'global/b'], soonest: 10 },
      { key: 'ns/a', now: 99, due: ['global/c', 'global/a', 'global/b'], soonest: 10 },
      { key: 'ns/b', now: 10, due: ['global/x'], soonest: 10 },
      { key: 'ns/none', now: 99, due: [], soonest: Infinity },
    ];
    for (const c of cases) {
      assert.deepEqual(names(p.due(c.key, c.now)), c.due, `${c.key} at ${c.now}`);
      assert.equal(p.soonest(c.key), c.soonest, `${c.key} soonest`);
    }
    // take() removes one at a time: a pass whose GET fails keeps the re-reads it did not make.
    assert.equal(p.take('global/a', 'ns/a', 20)?.name, 'a');
    assert.equal(p.take('global/a', 'ns/a', 20), undefined, 'taken once');
    assert.equal(p.take('global/c', 'ns/a', 20), undefined, 'not due yet');
    assert.equal(p.take('global/x', 'ns/a', 20), undefined, "another Service's");
    assert.deepEqual(names(p.due('ns/a', 99)), ['global/c', 'global/b']);
    assert.equal(p.soonest('ns/a'), 20);
    assert.equal(p.size, 3);
  });

  it('moves a check re-scheduled for another Service, and ignores an identical re-schedule', () => {
    const p = new PendingRereads(100);
    p.set('global/c', rr('ns/a', 'c', 10));
    p.set('global/c', rr('ns/a', 'c', 10));
    p.set('global/c', rr('ns/b', 'c', 15));
    assert.deepEqual(names(p.due('ns/a', 99)), []);
    assert.equal(p.soonest('ns/a'), Infinity);
    assert.deepEqual(names(p.due('ns/b', 99)), ['global/c']);
    assert.equal(p.soonest('ns/b'), 15);
    assert.equal(p.size, 1);
  });

  it('a re-read left to a list stays pending and due, but no longer sets when the Service comes back', () => {
    const p = new PendingRereads(100);
    p.set('global/a', rr('ns/a', 'a', 10));
    p.set('global/b', rr('ns/a', 'b', 30));
    p.leaveToList('global/a');
    assert.equal(p.soonest('ns/a'), 30, 'the list completing brings the Service back, not the clock (no requeue at 0 ms)');
    assert.deepEqual(names(p.due('ns/a', 20)), ['global/a']);
    assert.equal(p.take('global/a', 'ns/a', 20)?.viaList, true);
    assert.equal(p.size, 1);
  });

  it('forgets a Service, and drops the oldest check past its bound', () => {
    const p = new PendingRereads(2);
    p.set('global/a', rr('ns/a', 'a', 1));
    p.set('global/b', rr('ns/b', 'b', 1));
    p.set('global/b', rr('ns/b', 'b', 2)); // an update is not a new entry
    assert.equal(p.size, 2);
    p.set('global/c', rr('ns/b', 'c', 1)); // evicts global/a, the oldest
    assert.equal(p.size, 2);
    assert.deepEqual(names(p.due('ns/a', 99)), []);
    assert.deepEqual(names(p.due('ns/b', 99)), ['global/b', 'global/c']);
    assert.equal(p.pending('ns/a'), false, 'evicted');
    assert.equal(p.pending('ns/b'), true);
    p.forget('ns/b');
    assert.equal(p.pending('ns/b'), false);
    assert.equal(p.size, 0);
    assert.equal(p.soonest('ns/b'), Infinity);
  });
});
