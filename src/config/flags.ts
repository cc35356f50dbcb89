// Command-line flags, each also read from HCSYNC_<NAME> (e.g. --gcp-write-qps ← HCSYNC_GCP_WRITE_QPS).
// A flag on the command line wins over the environment. Bad values stop start-up with a message
// that names the flag and what was expected.
import { parseArgs } from 'node:util';
import type { ActiveMode } from '../parse/annotations.js';

export interface Config {
  readonly project?: string;
  readonly kubeconfig?: string;
  readonly namespaces: readonly string[];
  readonly mode: ActiveMode;
  readonly resyncMs: number;
  readonly gcpWriteQps: number;
  readonly inferFromLiveness: boolean;
  readonly metricsAddr: string;
  readonly healthAddr: string;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly logLevel: string;
  readonly gcpApiEndpoint?: string;
  readonly concurrency: number;
  /** May a Service's hcsync.io/mode: enforce override --mode observe? */
  readonly allowServiceEnforce: boolean;
  /** /metrics requires a bearer token (TokenReview) allowed to get /metrics (SubjectAccessReview). */
  readonly metricsAuth: boolean;
  /** -n for plan and diagnose. */
  readonly namespace?: string;
  /** -o for plan and diagnose. */
  readonly output: 'table' | 'json';
}

export class ConfigError extends Error {}

const OPTIONS = {
  project: { type: 'string' },
  kubeconfig: { type: 'string' },
  namespaces: { type: 'string' },
  mode: { type: 'string' },
  resync: { type: 'string' },
  'gcp-write-qps': { type: 'string' },
  'infer-from-liveness': { type: 'string' },
  'metrics-addr': { type: 'string' },
  'health-addr': { type: 'string' },
  'leader-elect': { type: 'string' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  'log-level': { type: 'string' },
  'gcp-api-endpoint': { type: 'string' },
  concurrency: { type: 'string' },
  'allow-service-enforce': { type: 'string' },
  'metrics-auth': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type FlagName = Exclude<keyof typeof OPTIONS, 'help'>;

export const FLAG_HELP: Record<FlagName, string> = {
  project: 'GCP project of the cluster (default: from the GCE metadata server)',
  kubeconfig: 'kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)',
  namespaces: 'comma-separated namespaces to watch (default: all)',
  mode: 'enforce (patch) or observe (report only) (default: enforce)',
  resync: 'how often to re-read health checks from GCP and re-check every Service (default: 2m)',
  'gcp-write-qps': 'health-check patches per second at most, across all Services (default: 1)',
  'infer-from-liveness': 'use the livenessProbe path when no readinessProbe qualifies (default: true)',
  'metrics-addr': 'address for /metrics (default: :8080)',
  'health-addr': 'address for /healthz and /readyz (default: :8081)',
  'leader-elect': 'elect a leader through a Lease so only one replica writes (default: false)',
  'leader-election-namespace': 'namespace of the Lease (default: $POD_NAMESPACE, else hcsync-system)',
  'leader-election-id': 'name of the Lease (default: hcsync)',
  'lease-duration': 'leader lease duration (default: 15s)',
  'renew-deadline': 'leader renew deadline (default: 10s)',
  'retry-period': 'leader election retry period (default: 2s)',
  'log-level': 'error, warn, info or debug (default: info)',
  'gcp-api-endpoint': 'Compute API endpoint; an http:// URL sends no credentials (tests, demo)',
  concurrency: 'Services reconciled in parallel (default: 4)',
  'allow-service-enforce': "let a Service's hcsync.io/mode: enforce override --mode observe (default: true)",
  'metrics-auth': 'require a bearer token on /metrics, checked by TokenReview and SubjectAccessReview (get /metrics) (default: false)',
  namespace: 'plan/diagnose: namespace (plan default: all watched; diagnose default: default)',
  output: 'plan/diagnose: table or json (default: table)',
};

/** The longest timer Node can set (2^31-1 ms, about 24.8 days); a longer one fires at once. */
const MAX_DURATION_MS = 2 ** 31 - 1;

/** A positive duration: a number and a unit (ms, s, m, h; a bare number is seconds), more than 0 and at most 24 days. */
export function parseDuration(flag: string, raw: string): number {
  const expected = 'expected a positive duration such as 500ms, 30s, 5m or 1h';
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`--${flag}: "${raw}" is not a duration; ${expected}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'; // the only units the pattern admits
  const ms = Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]);
  if (ms <= 0) throw new ConfigError(`--${flag}: "${raw}" is not more than 0; ${expected}`);
  if (ms > MAX_DURATION_MS) throw new ConfigError(`--${flag}: "${raw}" is longer than 24 days; ${expected}`);
  return ms;
}

function parseBool(flag: string, raw: string): boolean {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(`--${flag}: "${raw}" is not a boolean; expected true or false`);
}

/** A plain decimal (no sign, exponent, hex or blanks) more than 0; an integer when asked. */
function parsePositive(flag: string, raw: string, integer: boolean): number {
  const expected = integer ? 'expected a whole number of at least 1, e.g. 4' : 'expected a number more than 0, e.g. 1 or 0.5';
  const form = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const n = Number(raw);
  if (!form.test(raw) || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`--${flag}: "${raw}" is not a positive ${integer ? 'integer' : 'number'}; ${expected}`);
  }
  return n;
}

export function envName(flag: string): string {
  return `HCSYNC_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export interface ParsedCommandLine {
  readonly positionals: string[];
  readonly config: Config;
  readonly help: boolean;
}

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const get = (flag: FlagName): string | undefined => parsed.values[flag] ?? env[envName(flag)];
  const mode = get('mode') ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'observe') throw new ConfigError(`--mode: "${mode}" is not enforce or observe`);
  const output = get('output') ?? 'table';
  if (output !== 'table' && output !== 'json') throw new ConfigError(`--output: "${output}" is not table or json`);
  const endpoint = get('gcp-api-endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint))
    throw new ConfigError(`--gcp-api-endpoint: "${endpoint}" is not an http:// or https:// URL`);
  const logLevel = get('log-level') ?? 'info';
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel))
    throw new ConfigError(`--log-level: "${logLevel}" is not one of error, warn, info, debug`);
  const opt = (flag: FlagName) => {
    const v = get(flag);
    return v === undefined || v === '' ? undefined : v;
  };
  const project = opt('project');
  const kubeconfig = opt('kubeconfig');
  const namespace = opt('namespace');
  const config: Config = {
    ...(project ? { project } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    namespaces: (get('namespaces') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    mode,
    resyncMs: parseDuration('resync', get('resync') ?? '2m'),
    gcpWriteQps: parsePositive('gcp-write-qps', get('gcp-write-qps') ?? '1', false),
    inferFromLiveness: parseBool('infer-from-liveness', get('infer-from-liveness') ?? 'true'),
    metricsAddr: get('metrics-addr') ?? ':8080',
    healthAddr: get('health-addr') ?? ':8081',
    leaderElect: parseBool('leader-elect', get('leader-elect') ?? 'false'),
    leaderElectionNamespace: get('leader-election-namespace') ?? env['POD_NAMESPACE'] ?? 'hcsync-system',
    leaderElectionId: get('leader-election-id') ?? 'hcsync',
    leaseDurationMs: parseDuration('lease-duration', get('lease-duration') ?? '15s'),
    renewDeadlineMs: parseDuration('renew-deadline', get('renew-deadline') ?? '10s'),
    retryPeriodMs: parseDuration('retry-period', get('retry-period') ?? '2s'),
    logLevel,
    ...(endpoint ? { gcpApiEndpoint: endpoint } : {}),
    concurrency: parsePositive('concurrency', get('concurrency') ?? '4', true),
    allowServiceEnforce: parseBool('allow-service-enforce', get('allow-service-enforce') ?? 'true'),
    metricsAuth: parseBool('metrics-auth', get('metrics-auth') ?? 'false'),
    ...(namespace ? { namespace } : {}),
    output,
  };
  // client-go's leader election refuses the same: the renew deadline must leave the lease time to
  // spare, and a retry (with its 1.2 jitter) must fit inside the renew deadline.
  if (config.renewDeadlineMs >= config.leaseDurationMs) throw new ConfigError('--renew-deadline must be shorter than --lease-duration');
  if (config.retryPeriodMs * 1.2 >= config.renewDeadlineMs)
    throw new ConfigError('--retry-period × 1.2 must be shorter than --renew-deadline');
  return { positionals: parsed.positionals, config, help: parsed.values.help === true };
}

/** "host:port" or ":port" → listen arguments. */
export function parseAddr(flag: string, addr: string): { host?: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m) throw new ConfigError(`--${flag}: "${addr}" is not host:port or :port`);
  return { ...(m[1] ? { host: m[1] } : {}), port: Number(m[2]) };
}
