// list and aggregatedList: GCE's paging (maxResults, opaque pageToken), its simple filter
// expressions, and aggregatedList's per-scope grouping with NO_RESULTS_ON_PAGE warnings.
import type { CollectionSpec } from './collections.js';
import { invalid } from './errors.js';
import { clone } from './merge-patch.js';
import type { Route } from './router.js';
import { jsonText, listResources, scopeLink, scopesFor, SELF_LINK_BASE, type JsonObject, type Store } from './store.js';

const MAX_RESULTS = 500;

export function pageWindow(route: Route): { offset: number; max: number } {
  const maxRaw = route.query.get('maxResults');
  const max = maxRaw === null ? MAX_RESULTS : Number(maxRaw);
  if (!Number.isInteger(max) || max < 0 || max > MAX_RESULTS) {
    throw invalid('maxResults', maxRaw, `Must be between 0 and ${MAX_RESULTS}.`);
  }
  const token = route.query.get('pageToken');
  if (!token) return { offset: 0, max: max === 0 ? MAX_RESULTS : max };
  const offset = Number(
    Buffer.from(token, 'base64url')
      .toString('utf8')
      .replace(/^offset:/, ''),
  );
  if (!Number.isInteger(offset) || offset < 0) throw invalid('pageToken', token, 'Invalid page token.');
  return { offset, max: max === 0 ? MAX_RESULTS : max };
}

export function pageToken(offset: number): string {
  return Buffer.from(`offset:${offset}`, 'utf8').toString('base64url');
}

/** Supports GCE's simple filters on top-level scalar fields: `f = "v"`, `f != v`, `f eq re`, `f ne re`. */
function filterPredicate(filter: string | null): (r: JsonObject) => boolean {
  if (!filter || filter.trim() === '') return () => true;
  const m = /^\s*\(?\s*([A-Za-z][A-Za-z0-9]*)\s*(=|!=|eq|ne)\s*"?([^"]*?)"?\s*\)?\s*$/.exec(filter);
  if (!m) throw invalid('filter', filter, 'Invalid list filter expression.');
  const [, field, op, value] = m as unknown as [string, string, string, string];
  if (op === 'eq' || op === 'ne') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${value})$`); // GCE's eq/ne take a full-match RE2 expression
    } catch {
      throw invalid('filter', filter, 'Invalid regular expression.');
    }
    return (r) => re.test(jsonText(r[field] ?? '')) === (op === 'eq');
  }
  // '=' supports a '*' wildcard in GCE; literal otherwise.
  const re = new RegExp(
    `^${value
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return (r) => re.test(jsonText(r[field] ?? '')) === (op === '=');
}

export function list(store: Store, route: Route, spec: CollectionSpec, all: JsonObject[]): JsonObject {
  const items = all.filter(filterPredicate(route.query.get('filter')));
  const { offset, max } = pageWindow(route);
  const page = items.slice(offset, offset + max);
  const out: JsonObject = {
    kind: spec.listKind,
    id: `projects/${store.project}/${route.scope as string}/${route.collection}`,
    selfLink: `${scopeLink(store, route.scope as string)}/${route.collection}`,
  };
  if (page.length > 0) out['items'] = clone(page);
  if (offset + max < items.length) out['nextPageToken'] = pageToken(offset + max);
  return out;
}

/** One flattened, paginated sequence over every scope, regrouped per page like GCE does. */
export function aggregatedList(store: Store, route: Route, spec: CollectionSpec): JsonObject {
  const keep = filterPredicate(route.query.get('filter'));
  const scopes = scopesFor(store, route.collection).filter((s) => spec.scopes.includes(s.split('/')[0] as 'global'));
  const flat: [string, JsonObject][] = [];
  for (const scope of scopes) {
    for (const r of listResources(store, scope, route.collection)) if (keep(r)) flat.push([scope, r]);
  }
  const { offset, max } = pageWindow(route);
  const page = flat.slice(offset, offset + max);
  const items: JsonObject = {};
  for (const scope of scopes) {
    const inScope = page.filter(([s]) => s === scope).map(([, r]) => clone(r));
    items[scope] =
      inScope.length > 0
        ? { [route.collection]: inScope }
        : {
            warning: {
              code: 'NO_RESULTS_ON_PAGE',
              message: `There are no results for scope '${scope}' on this page.`,
              data: [{ key: 'scope', value: scope }],
            },
          };
  }
  const out: JsonObject = {
    kind: spec.aggregatedKind,
    id: `projects/${store.project}/aggregated/${route.collection}`,
    items,
    selfLink: `${SELF_LINK_BASE}${store.project}/aggregated/${route.collection}`,
  };
  if (offset + max < flat.length) out['nextPageToken'] = pageToken(offset + max);
  // Every scope is always reachable here; GCE only adds the field when partial success was asked for.
  if (route.query.get('returnPartialSuccess') === 'true') out['unreachables'] = [];
  return out;
}
