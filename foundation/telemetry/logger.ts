import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** LoggerOptions names the service and its level; destination is for tests. */
export interface LoggerOptions {
  service: string;
  level: string;
  destination?: DestinationStream;
}

/**
 * createLogger makes the service's structured JSON logger. Every line carries
 * the service name; a request's lines (its scope's logger, its one `request`
 * line) carry its request id and its trace and span ids.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ sync: false });
  const common = {
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const logger = pino(
    {
      ...common,
      level: options.level,
      redact: {
        paths: [
          'password',
          '*.password',
          'newPassword',
          '*.newPassword',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
        ],
        censor: '****',
      },
    },
    destination,
  );
  // Same lines, same stream, no redaction pass; the level is the main logger's (checked by the caller).
  unredacted.set(logger, pino({ ...common, level: 'trace' }, destination));
  return logger;
}

const unredacted = new WeakMap<Logger, Logger>();

/**
 * logFieldsOnly writes one line at a level through the same stream as logger
 * but without its redaction pass, for lines made only of fields known to hold
 * no secret (the per-request line: method, path, status, duration, ids).
 * Redaction copies and walks every object it is given; on a line written for
 * every request that was a few percent of a process's time.
 */
export function logFieldsOnly(
  logger: Logger,
  level: 'debug' | 'info',
  fields: Record<string, unknown>,
  message: string,
): void {
  if (!logger.isLevelEnabled(level)) return;
  (unredacted.get(logger) ?? logger)[level](fields, message);
}
