// Event notes are cut to events.k8s.io's limit in bytes of UTF-8, never inside a character.
import assert from 'node:assert/strict';
import { MAX_NOTE_BYTES, truncateNote } from '../../src/kube/event-recorder.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('Event note truncation (1,024 bytes of UTF-8)', () => {
  const cases: { name: string; note: string; cut: boolean }[] = [
    { name: 'short ASCII is kept', note: 'patched /ready', cut: false },
    { name: 'exactly 1,024 ASCII bytes is kept', note: 'a'.repeat(1024), cut: false },
    { name: 'long ASCII is cut', note: 'a'.repeat(3000), cut: true },
    // 600 arrows are 600 characters (under 1,024) but 1,800 bytes: the API server rejects it.
    { name: 'multi-byte under 1,024 characters but over 1,024 bytes is cut', note: '→'.repeat(600), cut: true },
    { name: 'a 4-byte character straddling the limit is not split', note: `${'a'.repeat(1019)}😀😀`, cut: true },
    { name: 'mixed text', note: `path /ready → /healthz ${'é'.repeat(700)}`, cut: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = truncateNote(c.note);
      assert.ok(bytes(out) <= MAX_NOTE_BYTES, `${bytes(out)} bytes`);
      if (!c.cut) {
        assert.equal(out, c.note);
        return;
      }
      assert.ok(out.endsWith('…'));
      const kept = out.slice(0, -1);
      assert.ok(c.note.startsWith(kept), 'a prefix of the note');
      assert.ok(!Buffer.from(out, 'utf8').toString('utf8').includes('\uFFFD'), 'valid UTF-8');
      assert.ok(!/[\uD800-\uDBFF]$/.test(kept), 'no lone high surrogate at the cut');
      assert.ok(bytes(out) > MAX_NOTE_BYTES - 4, 'uses the budget (within one character)');
    });
  }
});
