// The contract's Prometheus metrics on a registry of their own (never prom-client's global one,
// so tests and several controllers in one process do not collide).
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Metric,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { METRIC_STATES, type MetricState } from '../model/report.js';
import { StringTable } from '../lib/string-table.js';

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

/** One drift series as kept between scrapes: its labels and value, and the port's state for the tally — one object per Service port. */
interface DriftSeries extends DriftLabels {
  readonly drift: boolean;
  readonly state: MetricState;
}

/**
 * The drift gauge, its series read from Metrics' own per-Service reports at scrape time. A plain
 * prom-client Gauge keeps, per series, a hash key string (`health_check:…,namespace:…,port:…,service:…`,
 * ~130 B) in a dictionary plus a `{ value, labels }` entry — ~200 B per Service port at 5,000 Services
 * (issue 11), all of it a second copy of the reports. The text is the Gauge's: the same name, help,
 * type and aggregator, series in the order prom-client's hashMap would hold them (a Service whose
 * report changed moves to the end: setServiceReport re-inserts it, as Gauge.remove + set did), labels in
 * DriftLabels order (test/unit/metrics-report.test.ts compares the scrape with a Gauge's, byte for byte).
 */
class DriftGauge extends Gauge<keyof DriftLabels> {
  constructor(
    private readonly reports: ReadonlyMap<string, DriftSeries | readonly DriftSeries[]>,
    registry: Registry,
  ) {
    super({
      name: 'hcsync_health_check_drift',
      help: '1 while the live health check differs from the intended one',
      labelNames: ['namespace', 'service', 'port', 'health_check'] as const,
      registers: [registry],
    });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<keyof DriftLabels>>> {
    const values: MetricValue<keyof DriftLabels>[] = [];
    const add = (s: DriftSeries) =>
      values.push({
        value: s.drift ? 1 : 0,
        labels: { namespace: s.namespace, service: s.service, port: s.port, health_check: s.health_check },
      });
    for (const r of this.reports.values()) {
      if (isSeriesList(r)) for (const s of r) add(s);
      else add(r);
    }
    // The Gauge's own answer (name, help, type, aggregator; no series of its own), with the series.
    return { ...(await super.get()), values };
  }
}

const isSeriesList = (r: DriftSeries | readonly DriftSeries[]): r is readonly DriftSeries[] => Array.isArray(r);

export class Metrics {
  /** Bumped on every change of the drift gauge's series (setServiceReport is its only writer). */
  private driftVersion = 0;
  readonly registry: Registry = new CachingRegistry('hcsync_health_check_drift', () => this.driftVersion);
  /**
   * What each Service key last reported: one series per port (one object as is, more as an array),
   * read by the drift gauge at scrape time; its tally of states is the hcsync_health_checks gauge.
   */
  private readonly reports = new Map<string, DriftSeries | readonly DriftSeries[]>();
  readonly drift: Gauge<keyof DriftLabels> = new DriftGauge(this.reports, this.registry);
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

  private readonly tally = new Map<MetricState, number>(METRIC_STATES.map((s) => [s, 0]));

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.leader.set(0);
    this.workqueueDepth.set(0);
    for (const s of METRIC_STATES) this.healthChecks.set({ state: s }, 0);
  }

  /** Replaces everything hcsync reports for one Service (ports = [] forgets it). */
  setServiceReport(key: string, ports: readonly PortReport[]): void {
    const cur = this.reports.get(key);
    const before: readonly DriftSeries[] = cur === undefined ? [] : isSeriesList(cur) ? cur : [cur];
    const after = seriesOf(ports);
    // A steady pass reports what the last one did: leave the series alone.
    if (sameSeries(before, after)) return;
    this.driftVersion += 1;
    // Deleted and set again, so that the Service's series move to the end as the Gauge's did (remove + set).
    this.reports.delete(key);
    if (after.length === 1) this.reports.set(key, after[0] as DriftSeries);
    else if (after.length > 1) this.reports.set(key, after);

    // Keep the tally incrementally: subtract this Service's old states, add its new ones.
    for (const p of before) this.tally.set(p.state, (this.tally.get(p.state) ?? 0) - 1);
    for (const p of after) this.tally.set(p.state, (this.tally.get(p.state) ?? 0) + 1);
    for (const [state, n] of this.tally) this.healthChecks.set({ state }, n);
  }
}

interface PortReport {
  readonly labels: DriftLabels;
  readonly drift: boolean;
  readonly state: MetricState;
}

/** Port labels are a few strings (`http/80` is most web Services'), built afresh by each pass: one copy each is kept. */
const portLabels = new StringTable(1024);

/**
 * A report's series, one per distinct set of labels: a second port report with the labels of an
 * earlier one is that series again (prom-client's Gauge kept one series per labels: the first's
 * place, the last value), so it is folded into the earlier one. Exact length (no push slack).
 */
function seriesOf(ports: readonly PortReport[]): DriftSeries[] {
  const out: DriftSeries[] = [];
  for (const { labels: l, drift, state } of ports) {
    const port = portLabels.intern(l.port);
    const s: DriftSeries = { namespace: l.namespace, service: l.service, port, health_check: l.health_check, drift, state };
    const at = out.findIndex((o) => sameLabels(o, s));
    if (at < 0) out.push(s);
    else out[at] = s;
  }
  return out.slice();
}

function sameLabels(a: DriftLabels, b: DriftLabels): boolean {
  return a.namespace === b.namespace && a.service === b.service && a.port === b.port && a.health_check === b.health_check;
}

/** Whether two reports have exactly the same series, drift values and states, in the same order. */
function sameSeries(before: readonly DriftSeries[], after: readonly DriftSeries[]): boolean {
  if (before.length !== after.length) return false;
  return after.every((p, i) => {
    const b = before[i];
    return p.drift === b?.drift && p.state === b.state && sameLabels(p, b);
  });
}
