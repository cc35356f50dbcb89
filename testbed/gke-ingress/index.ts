// Entry point of the ingress-gce stand-in: naming.ts (GCE names), probe-to-check.ts (the check
// built at creation), merge.ts (what happens to an existing check), sync.ts (the loop).
export { GkeIngressStandIn, BACKENDS_ANNOTATION, URL_MAP_ANNOTATION, gcePaths } from './sync.js';
export { negName } from './naming.js';
