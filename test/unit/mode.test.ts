// Which mode applies to a Service: --mode, hcsync.io/mode, and --allow-service-enforce.
import assert from 'node:assert/strict';
import { effectiveMode, type ModeInputs } from '../../src/plan/mode.js';
import { parseMode } from '../../src/parse/annotations.js';

type Annotation = 'absent' | 'enforce' | 'observe' | 'ignore' | 'bogus';
const parsed = (a: Annotation): ModeInputs['annotation'] => {
  const r = parseMode(a === 'absent' ? {} : { 'hcsync.io/mode': a });
  return r.ok ? { ok: true, value: r.value } : { ok: false };
};

describe('effectiveMode', () => {
  const table: [cluster: 'enforce' | 'observe', annotation: Annotation, allow: boolean, mode: string, why?: string][] = [
    // Today's behaviour (allowed): the annotation overrides --mode either way.
    ['enforce', 'absent', true, 'enforce', 'cluster'],
    ['observe', 'absent', true, 'observe', 'cluster'],
    ['observe', 'enforce', true, 'enforce', 'annotation'],
    ['enforce', 'observe', true, 'observe', 'annotation'],
    ['enforce', 'enforce', true, 'enforce', 'annotation'],
    ['enforce', 'ignore', true, 'ignore'],
    ['observe', 'ignore', true, 'ignore'],
    ['enforce', 'bogus', true, 'observe', 'invalid-annotation'],
    // Forbidden: only the escalation observe → enforce is refused; narrowing still works.
    ['observe', 'enforce', false, 'observe', 'enforce-not-allowed'],
    ['observe', 'absent', false, 'observe', 'cluster'],
    ['enforce', 'enforce', false, 'enforce', 'annotation'],
    ['enforce', 'observe', false, 'observe', 'annotation'],
    ['enforce', 'absent', false, 'enforce', 'cluster'],
    ['observe', 'ignore', false, 'ignore'],
    ['observe', 'bogus', false, 'observe', 'invalid-annotation'],
  ];
  for (const [clusterMode, annotation, allowServiceEnforce, mode, why] of table) {
    it(`--mode ${clusterMode}, hcsync.io/mode ${annotation}, --allow-service-enforce=${allowServiceEnforce} → ${mode}${why ? ` (${why})` : ''}`, () => {
      const r = effectiveMode({ clusterMode, annotation: parsed(annotation), allowServiceEnforce });
      assert.deepEqual(r, why ? { mode, why } : { mode });
    });
  }
});
