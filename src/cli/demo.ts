// `hcsync demo`: placeholder until the test bed is wired in.
import type { Config } from '../config/flags.js';
import type { Logger } from '../observability/log.js';

export function runDemo(_config: Config, _log: Logger): Promise<number> {
  return Promise.reject(new Error('demo not wired yet'));
}
