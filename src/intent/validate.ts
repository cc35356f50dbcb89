// Validation before anything is sent to GCP (contract: "Invalid intent is never sent").
import type { OwnedFields } from '../model/health-check.js';

const MAX_PATH_LENGTH = 1024;
const MAX_INTERVAL_SEC = 300;
/** RFC 3986 path and query characters (unreserved, pct-encoded, sub-delims, ":", "@", "/", "?"). */
const PATH_CHARS = /^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*$/;
const DNS_NAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Why GCE would reject this requestPath (RFC 3986 characters, leading "/", ≤ 1024), or undefined when it is valid. */
function validatePath(path: string): string | undefined {
  if (!path.startsWith('/')) return `requestPath ${JSON.stringify(path)} must start with "/"`;
  if (path.length > MAX_PATH_LENGTH) return `requestPath is ${path.length} characters; at most ${MAX_PATH_LENGTH} are allowed`;
  if (!PATH_CHARS.test(path)) {
    const bad = [...path].find((ch) => !PATH_CHARS.test(`/${ch}`));
    return `requestPath ${JSON.stringify(path)} contains ${JSON.stringify(bad)}, which is not an RFC 3986 path or query character`;
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return `requestPath ${JSON.stringify(path)} has a "%" that does not start a percent-encoding`;
  return undefined;
}

/** Why this host is not a DNS name GCE accepts, or undefined ("" — the endpoint's IP — is valid). */
function validateHost(host: string): string | undefined {
  if (host === '') return undefined; // empty means "the endpoint's IP", as in GCE
  return DNS_NAME.test(host) ? undefined : `host ${JSON.stringify(host)} is not a DNS name`;
}

function validateSeconds(field: 'timeoutSec' | 'checkIntervalSec', value: number): string | undefined {
  if (!Number.isInteger(value) || value < 1 || value > MAX_INTERVAL_SEC) {
    return `${field} ${value} is outside 1..${MAX_INTERVAL_SEC} seconds`;
  }
  return undefined;
}

/** Checks each field on its own; `validateTiming` checks the pair as the check would end up. */
export function validateFields(fields: OwnedFields): string | undefined {
  if (fields.requestPath !== undefined) {
    const e = validatePath(fields.requestPath);
    if (e) return e;
  }
  if (fields.host !== undefined) {
    const e = validateHost(fields.host);
    if (e) return e;
  }
  if (fields.timeoutSec !== undefined) {
    const e = validateSeconds('timeoutSec', fields.timeoutSec);
    if (e) return e;
  }
  if (fields.checkIntervalSec !== undefined) {
    const e = validateSeconds('checkIntervalSec', fields.checkIntervalSec);
    if (e) return e;
  }
  return undefined;
}

/** GCE rejects timeoutSec > checkIntervalSec (equality is accepted: GKE's own defaults are 15/15). */
export function validateTiming(timeoutSec: number, checkIntervalSec: number): string | undefined {
  if (timeoutSec > checkIntervalSec) return `timeoutSec ${timeoutSec} is greater than checkIntervalSec ${checkIntervalSec}`;
  return undefined;
}
