// Names fixed by the public contract (docs/contract.md) that deploy/ depends on.

/** Metrics hcsync exposes on /metrics. */
export const CONTRACT_METRICS = [
  'hcsync_health_check_drift',
  'hcsync_health_checks',
  'hcsync_reconcile_total',
  'hcsync_reconcile_duration_seconds',
  'hcsync_health_check_patches_total',
  'hcsync_gcp_requests_total',
  'hcsync_gcp_request_duration_seconds',
  'hcsync_workqueue_depth',
  'hcsync_workqueue_retries_total',
  'hcsync_last_gcp_resync_timestamp_seconds',
  'hcsync_leader',
] as const;

/** Alerts shipped in the PrometheusRule. */
export const CONTRACT_ALERTS = ['HealthCheckDrifted', 'HealthCheckPatchFailing', 'HcsyncResyncStale', 'HcsyncDown'] as const;
