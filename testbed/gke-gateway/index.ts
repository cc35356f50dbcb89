// Entry point of the GKE Gateway controller stand-in: naming.ts (gkegw1- names), health-check.ts
// (defaults + HealthCheckPolicy → the check), sync.ts (the loop).
export { GkeGatewayStandIn } from './sync.js';
