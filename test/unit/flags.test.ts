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
  });

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
    [['run', '--gcp-write-qps=-1'], /--gcp-write-qps: "-1" is not a positive number/],
    [['run', '--infer-from-liveness', 'maybe'], /not a boolean/],
    [['run', '--gcp-api-endpoint', 'localhost:1'], /not an http:\/\/ or https:\/\/ URL/],
    [['run', '--lease-duration', '5s'], /--renew-deadline must be shorter than --lease-duration/],
    [['run', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.slice(1).join(' ')} with a message naming the flag`, () => {
      assert.throws(() => parseCommandLine(argv, {}), (e: unknown) => e instanceof ConfigError && message.test((e as Error).message));
    });
  }
});
