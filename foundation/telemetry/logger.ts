import { trace } from '@opentelemetry/api';
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
 * the service name and, inside a traced request, its trace and span ids.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { traceId, spanId };
      },
      redact: {
        paths: ['password', '*.password', 'newPassword', '*.newPassword', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization'],
        censor: '****',
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
