// The contract's Prometheus metrics on a registry of their own (never prom-client's global one,
// so tests and several controllers in one process do not collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { METRIC_STATES, type MetricState } from '../model/report.js';

interface DriftLabels {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
  readonly health_check: string;
}

type FormatMetric = (this: Registry, metric: Metric) => Promise<string>;

/**
 * A Registry that formats one metric again only when it changed. prom-client formats every series
 * on every scrape (`Registry.getMetricsAsString`: labels escaped and joined per value); the drift
 * gauge has one series per Service port, so at 5,000 Services a scrape formatted ~690 KB (~25 ms
 * CPU, more in GC in a 150 MB heap) that had not changed since the last one — the largest share of
 * an idle hcsync's CPU under a 5 s scrape. `version()` says when the cached text is stale.
 * `getMetricsAsString` is prom-client's own per-metric step of `metrics()` (lib/registry.js); were
 * it renamed, nothing would be cached and scrapes would format as before.
 */
class CachingRegistry extends Registry {
  private cached: { version: number; text: string } | undefined;

  constructor(
    private readonly metricName: string,
    private readonly version: () => number,
  ) {
    super();
  }

  async getMetricsAsString(metric: Metric): Promise<string> {
    const format = (Registry.prototype as unknown as { getMetricsAsString: FormatMetric }).getMetricsAsString;
    if ((metric as unknown as { name?: string }).name !== this.metricName) return format.call(this, metric);
    const version = this.version();
    if (this.cached?.version !== version) this.cached = { version, text: await format.call(this, metric) };
    return this.cached.text;
  }
}

export class Metrics {
  /** Bumped on every change of the drift gauge's series (setServiceReport is its only writer). */
  private driftVersion = 0;
  readonly registry: Registry = new CachingRegistry('hcsync_health_check_drift', () => this.driftVersion);
  readonly drift = new Gauge({
    name: 'hcsync_health_check_drift',
    help: '1 while the live health check differs from the intended one',
    labelNames: ['namespace', 'service', 'port', 'health_check'] as const,
    registers: [this.registry],
  });
  readonly healthChecks = new Gauge({
    name: 'hcsync_health_checks',
    help: 'Managed Service ports by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly reconcileTotal = new Counter({
    name: 'hcsync_reconcile_total',
    help: 'Reconciles of a Service key by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'hcsync_reconcile_duration_seconds',
    help: 'Time to reconcile one Service key',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly patchesTotal = new Counter({
    name: 'hcsync_health_check_patches_total',
    help: 'Health check patches by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly gcpRequests = new Counter({
    name: 'hcsync_gcp_requests_total',
    help: 'Compute API requests by method and HTTP code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly gcpRequestDuration = new Histogram({
    name: 'hcsync_gcp_request_duration_seconds',
    help: 'Compute API request latency',
    labelNames: ['method'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly workqueueDepth = new Gauge({
    name: 'hcsync_workqueue_depth',
    help: 'Service keys waiting to be reconciled',
    registers: [this.registry],
  });
  readonly workqueueRetries = new Counter({
    name: 'hcsync_workqueue_retries_total',
    help: 'Reconciles requeued with backoff after a failure',
    registers: [this.registry],
  });
  readonly lastGcpResync = new Gauge({
    name: 'hcsync_last_gcp_resync_timestamp_seconds',
    help: 'When the health-check inventory was last read from GCP',
    registers: [this.registry],
  });
  readonly leader = new Gauge({ name: 'hcsync_leader', help: '1 on the replica that leads', registers: [this.registry] });

  /**
   * What each Service key last reported, port by port (drift series labels, drift value, state):
   * its series are removed when the Service or port goes away, and the hcsync_health_checks gauge
   * is the tally of the states. One list per Service (it was three parallel maps of arrays).
   */
  private readonly reports = new Map<string, readonly PortReport[]>();
  private readonly tally = new Map<MetricState, number>(METRIC_STATES.map((s) => [s, 0]));

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.leader.set(0);
    this.workqueueDepth.set(0);
    for (const s of METRIC_STATES) this.healthChecks.set({ state: s }, 0);
  }

  /** Replaces everything hcsync reports for one Service (ports = [] forgets it). */
  setServiceReport(key: string, ports: readonly PortReport[]): void {
    const before = this.reports.get(key) ?? [];
    // A steady pass reports what the last one did: leave the series alone (no remove + set churn per Service per resync).
    if (sameReport(before, ports)) return;
    this.driftVersion += 1;
    // prom-client keeps the labels object it is given (lib/util.js setValue) and never changes it:
    // the report's own object, not a copy per series (issue 11: heap per Service).
    for (const old of before) this.drift.remove(old.labels);
    for (const p of ports) this.drift.set(p.labels, p.drift ? 1 : 0);
    if (ports.length > 0)
      this.reports.set(
        key,
        ports.map((p) => ({ labels: p.labels, drift: p.drift, state: p.state })),
      );
    else this.reports.delete(key);

    // Keep the tally incrementally: subtract this Service's old states, add its new ones.
    for (const p of before) this.tally.set(p.state, (this.tally.get(p.state) ?? 0) - 1);
    for (const p of ports) this.tally.set(p.state, (this.tally.get(p.state) ?? 0) + 1);
    for (const [state, n] of this.tally) this.healthChecks.set({ state }, n);
  }
}

interface PortReport {
  readonly labels: DriftLabels;
  readonly drift: boolean;
  readonly state: MetricState;
}

/** Whether a report has exactly the series, drift values and states of the Service's last one. */
function sameReport(before: readonly PortReport[], ports: readonly PortReport[]): boolean {
  if (before.length !== ports.length) return false;
  return ports.every((p, i) => {
    const b = before[i];
    if (b === undefined) return false;
    return (
      p.drift === b.drift &&
      p.state === b.state &&
      p.labels.namespace === b.labels.namespace &&
      p.labels.service === b.labels.service &&
      p.labels.port === b.labels.port &&
      p.labels.health_check === b.labels.health_check
    );
  });
}
