import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMemoryDebug } from '../../src/cli/memory-debug.js';
import type { Logger } from '../../src/observability/log.js';

describe('memory debug (HCSYNC_DEBUG_MEMORY): where RSS goes, off unless asked', () => {
  const recorder = () => {
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const record = (message: string, fields: Record<string, unknown>) => lines.push({ message, fields });
    return { lines, log: { info: record, warn: record, debug: record, error: record } as unknown as Logger };
  };

  it('logs nothing without the variable (or with 0 / a non-number)', async () => {
    for (const env of [{}, { HCSYNC_DEBUG_MEMORY: '0' }, { HCSYNC_DEBUG_MEMORY: 'yes' }]) {
      const { lines, log } = recorder();
      const stop = startMemoryDebug(log, env);
      await sleep(100);
      stop();
      assert.deepEqual(lines, [], JSON.stringify(env));
    }
  });

  it('with HCSYNC_DEBUG_MEMORY=<seconds>, logs memory usage, V8 spaces and (on Linux) smaps by kind', async () => {
    const { lines, log } = recorder();
    const stop = startMemoryDebug(log, { HCSYNC_DEBUG_MEMORY: '0.05' });
    try {
      const deadline = Date.now() + 5_000;
      while (lines.length === 0 && Date.now() < deadline) await sleep(20);
    } finally {
      stop();
    }
    const line = lines[0];
    assert.equal(line?.message, 'memory breakdown');
    for (const k of ['rss_mib', 'heap_used_mib', 'external_mib', 'array_buffers_mib', 'v8_physical_mib', 'code_and_metadata_mib'])
      assert.equal(typeof line.fields[k], 'number', k);
    const spaces = line.fields['spaces_mib'] as Record<string, string>;
    assert.match(spaces['old_space'] ?? '', /^[\d.]+ \/ [\d.]+ \/ [\d.]+$/);
    if (process.platform === 'linux') {
      const kinds = line.fields['rss_by_kind_mib'] as Record<string, number>;
      assert.ok(kinds['anonymous'] !== undefined && kinds['anonymous'] > 0, JSON.stringify(kinds));
      assert.ok(kinds['files'] !== undefined && kinds['files'] > 0, JSON.stringify(kinds));
    }
  });
});
