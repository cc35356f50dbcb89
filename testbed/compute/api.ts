// Compute API semantics for the collections we serve: CRUD with GCE's write rules, dispatch of
// list/aggregatedList (listing.ts), and the custom methods (getHealth, NEG endpoints, operations).
// Handlers validate synchronously (so 400/404/409 come back at once, as from GCE) and defer the
// effect to an Operation.
import { randomBytes } from 'node:crypto';
import { alreadyExists, ApiError, badRequest, conditionNotMet, inUse, invalid, notFound } from './errors.js';
import { clone, isObject, mergePatch } from './merge-patch.js';
import type { OperationSpec, Operations } from './operations.js';
import type { Route } from './router.js';
import { COLLECTIONS, type CollectionSpec } from './collections.js';
import { aggregatedList, list, pageToken, pageWindow } from './listing.js';
import {
  allocateId,
  deleteResource,
  getResource,
  jsonText,
  listResources,
  normaliseLink,
  putResource,
  referencesTo,
  resourcePath,
  resolveLink,
  scopeLink,
  selfLink,
  type Json,
  type JsonObject,
  type NetworkEndpoint,
  type Scope,
  type Store,
} from './store.js';
import { groupEndpoints, healthKey } from './topology.js';
import { stripOutputOnly, validateName } from './validation.js';

export interface ApiContext {
  store: Store;
  operations: Operations;
  /** Set when an operation-level failure was injected for this request's method. */
  operationFailure: OperationSpec['failure'];
  /** Set when an operation that never finishes was injected for this request's method. */
  operationHang?: boolean;
  /** The write's requestId, recorded against the operation it starts. */
  pendingRequestId?: string;
}

export interface ApiResult {
  status: number;
  body: JsonObject;
  /** For `wait`, which blocks until the operation is done. */
  deferred?: Promise<JsonObject>;
}

export function handle(ctx: ApiContext, route: Route, body: JsonObject): ApiResult {
  const { store } = ctx;
  if (route.project !== store.project) {
    throw new ApiError(404, 'notFound', `The resource 'projects/${route.project}' was not found`);
  }
  if (route.collection === 'operations') return handleOperation(ctx, route);
  const replay = replayedWrite(ctx, route);
  if (replay) return ok(replay);
  const spec = COLLECTIONS[route.collection];
  const scopeKind = route.scope?.split('/')[0];
  if (!spec || (route.scope !== undefined && !spec.scopes.includes(scopeKind as 'global'))) {
    throw new ApiError(404, 'notFound', `The stand-in does not serve '${route.api}'`);
  }
  if (route.action === 'aggregatedList') return ok(aggregatedList(store, route, spec));
  const scope = route.scope as Scope;
  if (route.action === 'list') return ok(list(store, route, spec, listResources(store, scope, route.collection)));
  if (route.action === 'insert') return ok(insert(ctx, route, spec, body));

  const name = route.name as string;
  const path = resourcePath(store, scope, route.collection, name);
  const existing = getResource(store, scope, route.collection, name);
  if (!existing) throw notFound(path);
  switch (route.action) {
    case 'get':
      return ok(clone(existing));
    case 'patch':
    case 'update':
      return ok(write(ctx, route, spec, existing, body));
    case 'delete':
      return ok(remove(ctx, route, spec, existing));
    default:
      return ok(customMethod(ctx, route, existing, body));
  }
}

const WRITES = new Set(['insert', 'patch', 'update', 'delete', 'attachNetworkEndpoints', 'detachNetworkEndpoints']);

/**
 * GCE de-duplicates writes by `requestId`: a retry with the same id gets the original Operation
 * back and is not applied twice, which is what makes retrying a timed-out patch safe.
 */
function replayedWrite(ctx: ApiContext, route: Route): JsonObject | undefined {
  const requestId = route.query.get('requestId');
  const method = route.action === 'verb' ? route.verb : route.action;
  if (!requestId || !method || !WRITES.has(method)) return undefined;
  const opKey = ctx.store.requestIds.get(requestId);
  if (opKey) {
    const op = ctx.store.operations.get(opKey);
    if (op) return clone(op);
  }
  ctx.pendingRequestId = requestId;
  return undefined;
}

function ok(body: JsonObject): ApiResult {
  return { status: 200, body };
}

function startOperation(ctx: ApiContext, scope: Scope, operationType: string, target: JsonObject, apply: () => void): JsonObject {
  const spec: OperationSpec = { scope, operationType, targetLink: jsonText(target['selfLink']), targetId: jsonText(target['id']), apply };
  if (ctx.operationFailure) spec.failure = ctx.operationFailure;
  if (ctx.operationHang) spec.hang = true;
  const op = ctx.operations.start(spec);
  if (ctx.pendingRequestId) ctx.store.requestIds.set(ctx.pendingRequestId, `${scope}/operations/${jsonText(op['name'])}`);
  return op;
}

function newFingerprint(): string {
  return randomBytes(8).toString('base64');
}

function insert(ctx: ApiContext, route: Route, spec: CollectionSpec, body: JsonObject): JsonObject {
  const { store } = ctx;
  const scope = route.scope as Scope;
  const name = validateName(body['name']);
  const path = resourcePath(store, scope, route.collection, name);
  if (getResource(store, scope, route.collection, name)) throw alreadyExists(path);
  const resource: JsonObject = {
    kind: spec.kind,
    id: allocateId(store),
    creationTimestamp: new Date().toISOString(),
    ...spec.normalise(stripOutputOnly(body)),
    name,
    selfLink: selfLink(store, scope, route.collection, name),
  };
  if (scope.startsWith('regions/')) resource['region'] = scopeLink(store, scope);
  if (scope.startsWith('zones/')) resource['zone'] = scopeLink(store, scope);
  if (spec.fingerprint) resource['fingerprint'] = newFingerprint();
  checkReferences(store, resource);
  return startOperation(ctx, scope, 'insert', resource, () => {
    // Two inserts racing: the second one's operation fails, as on GCE.
    if (getResource(store, scope, route.collection, name)) throw alreadyExists(path);
    putResource(store, scope, route.collection, resource);
  });
}

/** patch = JSON merge patch onto the current object; update = full replacement. Both keep identity. */
function write(ctx: ApiContext, route: Route, spec: CollectionSpec, existing: JsonObject, body: JsonObject): JsonObject {
  const { store } = ctx;
  const scope = route.scope as Scope;
  const name = route.name as string;
  const incoming = stripOutputOnly(body);
  if (incoming['name'] !== undefined && incoming['name'] !== name) {
    throw invalid('resource.name', incoming['name'], 'The name of a resource cannot be changed.');
  }
  if (spec.fingerprint) checkFingerprint(existing, incoming, route.action === 'update');
  const build = (current: JsonObject): JsonObject => {
    const identity: JsonObject = {};
    for (const f of ['kind', 'id', 'creationTimestamp', 'name', 'selfLink', 'region', 'zone']) {
      if (current[f] !== undefined) identity[f] = current[f];
    }
    const { fingerprint: _ignored, ...content } = incoming;
    const merged = route.action === 'patch' ? mergePatch(stripOutputOnly(current), content) : { ...content };
    delete merged['fingerprint'];
    const next: JsonObject = { ...identity, ...spec.normalise({ ...merged, name }) };
    for (const [k, v] of Object.entries(identity)) next[k] = v;
    if (spec.fingerprint) next['fingerprint'] = newFingerprint();
    return next;
  };
  const preview = build(existing); // validates now so a bad write fails with 400, not a failed op
  checkReferences(store, preview);
  return startOperation(ctx, scope, route.action, existing, () => {
    const current = getResource(store, scope, route.collection, name);
    if (!current) throw notFound(resourcePath(store, scope, route.collection, name));
    putResource(store, scope, route.collection, build(current));
  });
}

function checkFingerprint(existing: JsonObject, incoming: JsonObject, required: boolean): void {
  const fp = incoming['fingerprint'];
  if (fp === undefined && !required) return;
  if (fp !== existing['fingerprint']) {
    throw conditionNotMet(
      fp === undefined
        ? "Required field 'resource.fingerprint' not specified"
        : 'Invalid fingerprint: the resource was modified since it was read. Get the resource again and retry.',
    );
  }
}

/** Linked health checks, backend services and NEGs must exist, as GCE checks on write. */
function checkReferences(store: Store, resource: JsonObject): void {
  const links: string[] = [];
  const hcs = resource['healthChecks'];
  if (Array.isArray(hcs)) links.push(...hcs.filter((l): l is string => typeof l === 'string'));
  const backends = resource['backends'];
  if (Array.isArray(backends)) {
    for (const b of backends) if (isObject(b) && typeof b['group'] === 'string') links.push(b['group']);
  }
  for (const link of links) {
    if (!resolveLink(store, link)) throw notFound(normaliseLink(link));
  }
}

function remove(ctx: ApiContext, route: Route, spec: CollectionSpec, existing: JsonObject): JsonObject {
  const { store } = ctx;
  const scope = route.scope as Scope;
  const name = route.name as string;
  const link = jsonText(existing['selfLink']);
  const users = referencesTo(store, link);
  if (users[0] !== undefined) throw inUse(spec.noun, resourcePath(store, scope, route.collection, name), normaliseLink(users[0]));
  return startOperation(ctx, scope, 'delete', existing, () => {
    if (!deleteResource(store, scope, route.collection, name)) throw notFound(resourcePath(store, scope, route.collection, name));
    store.negEndpoints.delete(normaliseLink(link));
  });
}

// ---- custom methods -----------------------------------------------------------------------------

function customMethod(ctx: ApiContext, route: Route, existing: JsonObject, body: JsonObject): JsonObject {
  const key = `${route.collection}.${route.verb as string}`;
  switch (key) {
    case 'backendServices.getHealth':
      return getHealth(ctx.store, existing, body);
    case 'networkEndpointGroups.attachNetworkEndpoints':
    case 'networkEndpointGroups.detachNetworkEndpoints':
      return changeEndpoints(ctx, route, existing, body);
    case 'networkEndpointGroups.listNetworkEndpoints':
      return listNetworkEndpoints(ctx.store, route, existing);
    default:
      throw new ApiError(404, 'notFound', `The stand-in does not serve '${route.api}'`);
  }
}

function getHealth(store: Store, bs: JsonObject, body: JsonObject): JsonObject {
  const group = body['group'];
  const backends = Array.isArray(bs['backends']) ? bs['backends'] : [];
  const isBackend =
    typeof group === 'string' &&
    backends.some((b) => isObject(b) && typeof b['group'] === 'string' && normaliseLink(b['group']) === normaliseLink(group));
  if (!isBackend) throw invalid('resource.group', group, 'The group is not a backend of this backend service.');
  const neg = resolveLink(store, group);
  const healthStatus: Json[] = groupEndpoints(store, group).map((ep) => {
    const seen = store.health.get(healthKey(jsonText(bs['selfLink']), ep));
    // getHealth only knows HEALTHY and UNHEALTHY; a not-yet-probed endpoint counts as unhealthy.
    const status: JsonObject = { ipAddress: ep.ipAddress, port: ep.port, healthState: seen?.state === 'HEALTHY' ? 'HEALTHY' : 'UNHEALTHY' };
    if (ep.instance && neg) status['instance'] = `${scopeLink(store, neg.scope)}/instances/${ep.instance}`;
    return status;
  });
  const out: JsonObject = { kind: 'compute#backendServiceGroupHealth' };
  if (healthStatus.length > 0) out['healthStatus'] = healthStatus;
  return out;
}

function parseEndpoints(neg: JsonObject, body: JsonObject): NetworkEndpoint[] {
  const raw = body['networkEndpoints'];
  if (!Array.isArray(raw)) throw badRequest('required', "Required field 'networkEndpoints' not specified");
  return raw.map((e, i) => {
    if (!isObject(e) || typeof e['ipAddress'] !== 'string') {
      throw invalid(`networkEndpoints[${i}].ipAddress`, isObject(e) ? e['ipAddress'] : e, 'An IP address is required.');
    }
    const port = e['port'] ?? neg['defaultPort'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid(`networkEndpoints[${i}].port`, port, 'A port is required when the group has no defaultPort.');
    }
    const ep: NetworkEndpoint = { ipAddress: e['ipAddress'], port };
    if (typeof e['instance'] === 'string' && e['instance'] !== '') ep.instance = e['instance'];
    return ep;
  });
}

function changeEndpoints(ctx: ApiContext, route: Route, neg: JsonObject, body: JsonObject): JsonObject {
  const { store } = ctx;
  const endpoints = parseEndpoints(neg, body);
  const link = normaliseLink(jsonText(neg['selfLink']));
  const attach = route.verb === 'attachNetworkEndpoints';
  const same = (a: NetworkEndpoint, b: NetworkEndpoint): boolean => a.ipAddress === b.ipAddress && a.port === b.port;
  return startOperation(ctx, route.scope as Scope, attach ? 'attachNetworkEndpoints' : 'detachNetworkEndpoints', neg, () => {
    let current = store.negEndpoints.get(link) ?? [];
    for (const ep of endpoints) {
      const present = current.some((c) => same(c, ep));
      if (attach && present) throw badRequest('invalid', `Network endpoint ${ep.ipAddress}:${ep.port} is already attached`);
      if (!attach && !present) throw badRequest('invalid', `Network endpoint ${ep.ipAddress}:${ep.port} is not attached`);
      current = attach ? [...current, ep] : current.filter((c) => !same(c, ep));
    }
    store.negEndpoints.set(link, current);
    const live = getResource(store, route.scope as Scope, route.collection, route.name as string);
    if (live) live['size'] = current.length;
  });
}

function listNetworkEndpoints(store: Store, route: Route, neg: JsonObject): JsonObject {
  const all = store.negEndpoints.get(normaliseLink(jsonText(neg['selfLink']))) ?? [];
  const { offset, max } = pageWindow(route);
  const page = all.slice(offset, offset + max);
  const out: JsonObject = { kind: 'compute#networkEndpointGroupsListNetworkEndpoints' };
  if (page.length > 0) out['items'] = page.map((ep) => ({ networkEndpoint: { ...ep } }));
  if (offset + max < all.length) out['nextPageToken'] = pageToken(offset + max);
  return out;
}

// ---- operations ---------------------------------------------------------------------------------

function handleOperation(ctx: ApiContext, route: Route): ApiResult {
  if (route.scope === undefined || route.name === undefined) {
    throw new ApiError(404, 'notFound', `The stand-in does not serve '${route.api}'`);
  }
  if (route.action === 'get') return ok(ctx.operations.get(route.scope, route.name));
  if (route.action === 'verb' && route.verb === 'wait') {
    const current = ctx.operations.get(route.scope, route.name); // 404 at once for unknown ops
    return { status: 200, body: current, deferred: ctx.operations.wait(route.scope, route.name) };
  }
  throw new ApiError(404, 'notFound', `The stand-in does not serve '${route.api}'`);
}
