// kubectl-style plain table.
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return 'No Ingress-backed Service ports found.\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
