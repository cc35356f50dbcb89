import assert from 'node:assert/strict';
import { ConfigError, parseCommandLine, parseDuration } from '../../src/config/flags.js';

describe('flags', () => {
  it('defaults', () => {
    const { config, positionals } = parseCommandLine(['run'], {});
    assert.deepEqual(positionals, ['run']);
    assert.equal(config.mode, 'enforce');
    assert.equal(config.resyncMs, 120_000);
    assert.equal(config.inferFromLiveness, true);
    assert.equal(config.leaseDurationMs, 15_000);
    assert.equal(config.renewDeadlineMs, 10_000);
    assert.equal(config.retryPeriodMs, 2_000);
    assert.equal(config.concurrency, 4);
    assert.equal(config.gcpWriteQps, 1);
    assert.equal(config.allowServiceEnforce, true, "today's behaviour: a Service may ask for enforce");
    assert.equal(config.metricsAuth, false);
  });

  it('--allow-service-enforce and --metrics-auth are booleans, also from the environment', () => {
    assert.equal(parseCommandLine(['run', '--allow-service-enforce=false'], {}).config.allowServiceEnforce, false);
    assert.equal(parseCommandLine(['run'], { HCSYNC_ALLOW_SERVICE_ENFORCE: 'false' }).config.allowServiceEnforce, false);
    assert.equal(parseCommandLine(['run', '--metrics-auth=true'], {}).config.metricsAuth, true);
    assert.equal(parseCommandLine(['run'], { HCSYNC_METRICS_AUTH: 'true' }).config.metricsAuth, true);
  });

  // Every numeric flag refuses 0, negatives and nonsense, naming the flag and the form it expects.
  const DURATION = /expected a positive duration such as 500ms, 30s, 5m or 1h/;
  const QPS = /expected a number more than 0, e\.g\. 1 or 0\.5/;
  const COUNT = /expected a whole number of at least 1, e\.g\. 4/;
  const numeric: [flag: string, value: string, expected: RegExp][] = [];
  for (const flag of ['resync', 'lease-duration', 'renew-deadline', 'retry-period']) {
    for (const value of [
      '0',
      '0s',
      '0ms',
      '0.0001s',
      '-5s',
      '-1',
      '',
      'soon',
      '5 minutes',
      '1d',
      '5m30s',
      '1e3s',
      'Infinity',
      'NaN',
      '0x10',
      '100000h',
    ]) {
      numeric.push([flag, value, DURATION]);
    }
  }
  for (const value of ['0', '0.0', '-1', '-0.5', '', 'fast', 'Infinity', 'NaN', '0x10', '1e3', ' 1', '1,5'])
    numeric.push(['gcp-write-qps', value, QPS]);
  for (const value of ['0', '-1', '1.5', '', 'many', 'Infinity', '0x10', '1e2', '4 ']) numeric.push(['concurrency', value, COUNT]);
  for (const [flag, value, expected] of numeric) {
    it(`--${flag}=${JSON.stringify(value)} is refused with a message naming --${flag} and the expected form`, () => {
      assert.throws(
        () => parseCommandLine(['run', `--${flag}=${value}`], {}),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith(`--${flag}: "${value}" `) && expected.test(e.message),
      );
    });
    it(`HCSYNC_${flag.toUpperCase().replaceAll('-', '_')}=${JSON.stringify(value)} is refused the same way`, () => {
      assert.throws(
        () => parseCommandLine(['run'], { [`HCSYNC_${flag.toUpperCase().replaceAll('-', '_')}`]: value }),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith(`--${flag}: "${value}" `) && expected.test(e.message),
      );
    });
  }

  const good: [argv: string[], key: 'resyncMs' | 'gcpWriteQps' | 'concurrency' | 'leaseDurationMs' | 'retryPeriodMs', value: number][] = [
    [['--resync=90s'], 'resyncMs', 90_000],
    [['--resync=1ms'], 'resyncMs', 1],
    [['--resync=24h'], 'resyncMs', 86_400_000],
    [['--gcp-write-qps=0.5'], 'gcpWriteQps', 0.5],
    [['--gcp-write-qps=20'], 'gcpWriteQps', 20],
    [['--concurrency=1'], 'concurrency', 1],
    [['--lease-duration=60s', '--renew-deadline=40s'], 'leaseDurationMs', 60_000],
    [['--retry-period=500ms'], 'retryPeriodMs', 500],
  ];
  for (const [argv, key, value] of good) {
    it(`accepts ${argv.join(' ')}`, () => assert.equal(parseCommandLine(['run', ...argv], {}).config[key], value));
  }

  it('HCSYNC_* environment variables, overridden by the command line', () => {
    const env = { HCSYNC_MODE: 'observe', HCSYNC_GCP_WRITE_QPS: '0.5', HCSYNC_NAMESPACES: 'a, b' };
    assert.equal(parseCommandLine(['run'], env).config.mode, 'observe');
    assert.equal(parseCommandLine(['run', '--mode', 'enforce'], env).config.mode, 'enforce');
    assert.equal(parseCommandLine(['run'], env).config.gcpWriteQps, 0.5);
    assert.deepEqual(parseCommandLine(['run'], env).config.namespaces, ['a', 'b']);
  });

  it('parses durations', () => {
    assert.equal(parseDuration('resync', '90s'), 90_000);
    assert.equal(parseDuration('resync', '5m'), 300_000);
    assert.equal(parseDuration('resync', '250ms'), 250);
    assert.equal(parseDuration('resync', '30'), 30_000);
  });

  const bad: [string[], RegExp][] = [
    [['run', '--mode', 'fix'], /--mode: "fix" is not enforce or observe/],
    [['run', '--resync', 'soon'], /--resync: "soon" is not a duration/],
    [['run', '--gcp-write-qps=-1'], /--gcp-write-qps: "-1" is not a positive number; expected/],
    [['run', '--infer-from-liveness', 'maybe'], /not a boolean/],
    [['run', '--gcp-api-endpoint', 'localhost:1'], /not an http:\/\/ or https:\/\/ URL/],
    [['run', '--lease-duration', '5s'], /--renew-deadline must be shorter than --lease-duration/],
    [['run', '--retry-period', '9s'], /--retry-period × 1\.2 must be shorter than --renew-deadline/],
    [['run', '--allow-service-enforce', 'maybe'], /--allow-service-enforce: "maybe" is not a boolean/],
    [['run', '--metrics-auth', 'on'], /--metrics-auth: "on" is not a boolean/],
    [['run', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.slice(1).join(' ')} with a message naming the flag`, () => {
      assert.throws(
        () => parseCommandLine(argv, {}),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});
