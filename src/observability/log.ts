// Structured JSON logs (winston). Every line about an object carries its identity as fields
// (namespace, service, health_check, ...) so logs can be filtered without parsing messages.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level: string = process.env.HCSYNC_LOG_LEVEL ?? 'info'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    defaultMeta: { component: 'hcsync' },
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** A logger that drops everything: for tests and library use where no output is wanted. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
