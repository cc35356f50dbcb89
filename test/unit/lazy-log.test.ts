// lazyChild (observability/log.ts): the per-reconcile child logger is made on first use only, and
// logs exactly as parent.child(meta) would (issue 11: an in-sync pass logs nothing).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import { lazyChild } from '../../src/observability/log.js';

function capture(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

describe('lazyChild', () => {
  it('makes no child until something is logged, then logs with the child fields', () => {
    const { logger, lines } = capture();
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = (meta) => (children++, child(meta));
    const log = lazyChild(logger, { namespace: 'ns', service: 'web' });
    assert.equal(children, 0, 'no child before the first log');
    log.info('condition updated', { reason: 'InSync' });
    log.warn('event not recorded', { reason: 'HealthCheckPatched' });
    assert.equal(children, 1, 'one child, made once');
    assert.deepEqual(lines, [
      { level: 'info', message: 'condition updated', namespace: 'ns', service: 'web', reason: 'InSync' },
      { level: 'warn', message: 'event not recorded', namespace: 'ns', service: 'web', reason: 'HealthCheckPatched' },
    ]);
  });
});
