import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** TelemetryOptions names the service and, optionally, where spans go. */
export interface TelemetryOptions {
  service: string;
  /** otlpEndpoint is the collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to its /v1/traces. */
  otlpEndpoint?: string;
}

/** Telemetry is the running tracer provider; shutdown flushes spans still buffered. */
export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * startTelemetry registers the global tracer provider (W3C trace context,
 * async-local context) and the PostgreSQL instrumentation. It must run before
 * the first database connection so that `pg` is patched when TypeORM loads it.
 * Without an endpoint spans are still made, so every log line has a trace id.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const spanProcessors: SpanProcessor[] = [];
  if (options.otlpEndpoint) {
    const url = options.otlpEndpoint.replace(/\/+$/, '') + '/v1/traces';
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 }));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    spanProcessors,
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true })],
  });
  return {
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
