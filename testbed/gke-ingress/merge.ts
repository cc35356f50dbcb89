// What ingress-gce does with an EXISTING health check on every sync (pkg/healthchecks/
// healthchecks.go: sync; healthcheck.go: mergeUserSettings, calculateDiff), with its open-source
// flag defaults: no THC, no recalculation on BackendConfig removal, no description updates.
import type { BackendConfigHealthCheck } from './backend-config.js';
import { cloneModel, type HealthCheckModel } from './model.js';
import { applyBackendConfig } from './probe-to-check.js';

/**
 * healthcheck.go: mergeUserSettings — keep the live HTTP block, interval, timeout, thresholds and
 * logConfig; re-impose ingress-gce's port model (NEG: serving port, no port; IG: nodePort, no
 * port specification). Type, name and description come from `desired`.
 */
function mergeUserSettings(existing: HealthCheckModel, desired: HealthCheckModel): HealthCheckModel {
  const hc = cloneModel(desired);
  hc.http = { ...existing.http };
  hc.checkIntervalSec = existing.checkIntervalSec;
  hc.healthyThreshold = existing.healthyThreshold;
  hc.timeoutSec = existing.timeoutSec;
  hc.unhealthyThreshold = existing.unhealthyThreshold;
  if (existing.logConfig !== undefined) hc.logConfig = { ...existing.logConfig };
  if (hc.forNEG) {
    hc.http.port = 0;
    hc.http.portSpecification = desired.http.portSpecification;
  } else {
    hc.http.portSpecification = '';
    hc.http.port = desired.http.port;
  }
  return hc;
}

/**
 * healthcheck.go: calculateDiff — always type and portSpecification; with a BackendConfig
 * healthCheck also the fields it sets. Host is never compared (upstream TODO). Returns
 * "Field:old -> new" entries like ingress-gce's log line; empty means no update.
 */
function calculateDiff(old: HealthCheckModel, neu: HealthCheckModel, c: BackendConfigHealthCheck | undefined): string[] {
  const d: string[] = [];
  const add = (f: string, o: string | number, n: string | number): void => {
    d.push(`${f}:${o} -> ${n}`);
  };
  if (old.type !== neu.type) add('Protocol', old.type, neu.type);
  if (old.http.portSpecification !== neu.http.portSpecification)
    add('PortSpecification', old.http.portSpecification, neu.http.portSpecification);
  if (c === undefined) return d;
  if (c.checkIntervalSec !== undefined && old.checkIntervalSec !== neu.checkIntervalSec)
    add('CheckIntervalSec', old.checkIntervalSec, neu.checkIntervalSec);
  if (c.timeoutSec !== undefined && old.timeoutSec !== neu.timeoutSec) add('TimeoutSec', old.timeoutSec, neu.timeoutSec);
  if (c.healthyThreshold !== undefined && old.healthyThreshold !== neu.healthyThreshold)
    add('HeathyThreshold', old.healthyThreshold, neu.healthyThreshold);
  if (c.unhealthyThreshold !== undefined && old.unhealthyThreshold !== neu.unhealthyThreshold)
    add('UnhealthyThreshold', old.unhealthyThreshold, neu.unhealthyThreshold);
  if (c.requestPath !== undefined && old.http.requestPath !== neu.http.requestPath)
    add('RequestPath', old.http.requestPath, neu.http.requestPath);
  if (c.port !== undefined && old.http.port !== neu.http.port) add('Port', old.http.port, neu.http.port);
  // Description is compared upstream, but blanked on both sides unless
  // --enable-update-hc-description is on (default off), so it never differs here.
  return d;
}

export interface ExistingPlan {
  /** The object ingress-gce would PUT. */
  merged: HealthCheckModel;
  /** Empty: no update. */
  diffs: string[];
}

/** healthchecks.go: sync for an existing check (no recalculation case). */
export function planExisting(
  existing: HealthCheckModel,
  desired: HealthCheckModel,
  backendConfig: BackendConfigHealthCheck | undefined,
): ExistingPlan {
  const merged = mergeUserSettings(existing, desired);
  if (backendConfig !== undefined) applyBackendConfig(merged, backendConfig);
  return { merged, diffs: calculateDiff(existing, merged, backendConfig) };
}
