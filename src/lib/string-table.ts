// One shared copy of strings that repeat across cached objects (issue 11: heap per cached object).

/**
 * One copy of each of a few distinct strings (namespaces, Pod phases, condition types): a watch
 * event is parsed on its own, so each of its strings is a fresh copy (JSON.parse shares equal
 * strings within one text only). Bounded: past `limit` distinct strings the table starts over.
 */
export class StringTable {
  private readonly table = new Map<string, string>();

  constructor(private readonly limit = 4096) {}

  /** The shared copy of `s`. */
  intern(s: string): string {
    const cur = this.table.get(s);
    if (cur !== undefined) return cur;
    if (this.table.size >= this.limit) this.table.clear();
    this.table.set(s, s);
    return s;
  }
}
