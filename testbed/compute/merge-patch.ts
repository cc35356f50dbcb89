// RFC 7396 JSON merge patch, which is what Compute documents for its PATCH methods: objects merge
// recursively, `null` deletes a member, and anything else (including arrays) replaces.
import type { Json, JsonObject } from './store.js';

export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete out[key]; // eslint-disable-line @typescript-eslint/no-dynamic-delete -- RFC 7396: null removes the member the patch names
    } else if (isObject(value)) {
      const current = out[key];
      out[key] = mergePatch(isObject(current) ? current : {}, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy, so the store never shares objects with request bodies or responses. */
export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}
