// Debug only, off unless HCSYNC_DEBUG_MEMORY=<seconds> is set: logs where the process's RSS goes,
// every that many seconds, as one `memory breakdown` line — process.memoryUsage() (external and
// arrayBuffers included), V8's heap spaces (committed, physical, used), its code statistics, and
// /proc/self/smaps summed by kind of mapping (the node binary and other files, glibc's brk heap,
// anonymous mappings, stacks) with the largest anonymous mappings. V8's pages and glibc's malloc
// arenas are both anonymous mappings: their difference (anonymous RSS − V8's physical size) is
// malloc, external memory (Buffers) and thread stacks. Nothing here ships enabled: the Deployment
// and the Helm chart never set the variable.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import type { Logger } from '../observability/log.js';

const MiB = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

interface Mapping {
  name: string;
  perms: string;
  sizeKiB: number;
  rssKiB: number;
}

/** The mappings of /proc/<pid>/smaps (Linux; [] elsewhere), each with its size and resident KiB. */
function readSmaps(path = '/proc/self/smaps'): Mapping[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { perms: head[1] ?? '', name: head[2] ?? '', sizeKiB: 0, rssKiB: 0 };
      out.push(cur);
      continue;
    }
    const field = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (field && cur) cur[field[1] === 'Size' ? 'sizeKiB' : 'rssKiB'] = Number(field[2]);
  }
  return out;
}

/** Resident MiB by kind of mapping, and the largest anonymous mappings. */
function smapsSummary(): Record<string, unknown> {
  const maps = readSmaps();
  if (maps.length === 0) return {};
  const kinds = new Map<string, number>();
  const add = (kind: string, kib: number) => kinds.set(kind, (kinds.get(kind) ?? 0) + kib);
  const files = new Map<string, number>();
  for (const m of maps) {
    if (m.name.startsWith('/')) {
      add('files', m.rssKiB);
      const base = m.name.slice(m.name.lastIndexOf('/') + 1);
      files.set(base, (files.get(base) ?? 0) + m.rssKiB);
    } else if (m.name === '') add('anonymous', m.rssKiB);
    else add(m.name, m.rssKiB); // [heap] (glibc's main arena), [stack], [vdso]…
  }
  const top = (xs: [string, number][], n: number) =>
    xs
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, kib]) => `${k} ${MiB(kib * 1024)}`);
  return {
    rss_by_kind_mib: Object.fromEntries([...kinds].map(([k, kib]) => [k, MiB(kib * 1024)])),
    file_rss_top_mib: top([...files], 5),
    anonymous_mappings: maps.filter((m) => m.name === '').length,
    anonymous_top_mib: top(
      maps.filter((m) => m.name === '' && m.rssKiB > 0).map((m, i) => [`#${i} ${m.perms} size ${MiB(m.sizeKiB * 1024)}:`, m.rssKiB]),
      12,
    ),
  };
}

/** One snapshot of the process's memory, in MiB (the figures `memory breakdown` logs). */
function memoryBreakdown(): Record<string, unknown> {
  const mu = process.memoryUsage();
  const hs = v8.getHeapStatistics();
  const code = v8.getHeapCodeStatistics();
  return {
    rss_mib: MiB(mu.rss),
    heap_total_mib: MiB(mu.heapTotal),
    heap_used_mib: MiB(mu.heapUsed),
    external_mib: MiB(mu.external),
    array_buffers_mib: MiB(mu.arrayBuffers),
    v8_physical_mib: MiB(hs.total_physical_size),
    v8_malloced_mib: MiB(hs.malloced_memory),
    v8_peak_malloced_mib: MiB(hs.peak_malloced_memory),
    v8_heap_size_limit_mib: MiB(hs.heap_size_limit),
    code_and_metadata_mib: MiB(code.code_and_metadata_size),
    bytecode_and_metadata_mib: MiB(code.bytecode_and_metadata_size),
    external_script_source_mib: MiB(code.external_script_source_size),
    // committed (space_size) / physical / used per space: committed − used is what V8 keeps after a GC.
    spaces_mib: Object.fromEntries(
      v8
        .getHeapSpaceStatistics()
        .map((s) => [s.space_name, `${MiB(s.space_size)} / ${MiB(s.physical_space_size)} / ${MiB(s.space_used_size)}`]),
    ),
    ...smapsSummary(),
  };
}

/** With HCSYNC_DEBUG_MEMORY=<seconds> (debug only), logs `memory breakdown` that often; returns its stop. */
export function startMemoryDebug(log: Logger, env: NodeJS.ProcessEnv = process.env): () => void {
  const seconds = Number(env['HCSYNC_DEBUG_MEMORY']);
  if (!(seconds > 0)) return () => undefined;
  const timer = setInterval(() => log.info('memory breakdown', memoryBreakdown()), seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
