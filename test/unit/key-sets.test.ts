// The index multimap whose one-member entries are the member itself (src/kube/key-sets.ts): it
// must answer exactly as a Map of Sets would, in the same order, through any add/remove sequence.
import assert from 'node:assert/strict';
import { addMember, memberCount, membersOf, removeMember, type Members } from '../../src/kube/key-sets.js';

type Op = readonly ['add' | 'remove', string];

const cases: { name: string; ops: Op[] }[] = [
  {
    name: 'one member is held as itself, and goes with its removal',
    ops: [
      ['add', 'a'],
      ['remove', 'a'],
    ],
  },
  {
    name: 'adding the one member again changes nothing',
    ops: [
      ['add', 'a'],
      ['add', 'a'],
    ],
  },
  {
    name: 'removing a member not there changes nothing',
    ops: [
      ['add', 'a'],
      ['remove', 'b'],
      ['remove', 'b'],
    ],
  },
  {
    name: 'a second member makes a Set, in insertion order',
    ops: [
      ['add', 'a'],
      ['add', 'b'],
      ['add', 'c'],
      ['add', 'b'],
    ],
  },
  {
    name: 'back to one member and up again keeps Set order',
    ops: [
      ['add', 'a'],
      ['add', 'b'],
      ['remove', 'a'],
      ['add', 'c'],
      ['add', 'a'],
      ['remove', 'c'],
      ['remove', 'b'],
      ['remove', 'a'],
    ],
  },
  {
    name: 'a few members are an array, more a Set: order kept through both, and back down',
    ops: [
      ...Array.from({ length: 10 }, (_, i): Op => ['add', `m${i}`]),
      ['remove', 'm3'],
      ['add', 'm3'],
      ...Array.from({ length: 9 }, (_, i): Op => ['remove', `m${i}`]),
      ['add', 'x'],
      ['add', 'y'],
      ['remove', 'x'],
    ],
  },
  {
    name: 'removing from an array keeps the others in order',
    ops: [
      ['add', 'a'],
      ['add', 'b'],
      ['add', 'c'],
      ['remove', 'b'],
      ['add', 'b'],
      ['remove', 'a'],
      ['remove', 'zz'],
      ['remove', 'c'],
    ],
  },
];

describe('key-sets: a Map of Sets with one-member entries held as the member', function () {
  for (const c of cases) {
    it(c.name, function () {
      const compact = new Map<string, Members>();
      const sets = new Map<string, Set<string>>();
      for (const [op, member] of c.ops) {
        if (op === 'add') {
          addMember(compact, 'k', member);
          sets.set('k', (sets.get('k') ?? new Set()).add(member));
        } else {
          removeMember(compact, 'k', member);
          sets.get('k')?.delete(member);
          if (sets.get('k')?.size === 0) sets.delete('k');
        }
        const want = [...(sets.get('k') ?? [])];
        assert.deepEqual([...membersOf(compact, 'k')], want, `after ${op} ${member}`);
        assert.equal(memberCount(compact, 'k'), want.length);
        assert.equal(compact.has('k'), want.length > 0);
        assert.equal(typeof compact.get('k') === 'string', want.length === 1, 'one member is held as a string');
      }
    });
  }
});
