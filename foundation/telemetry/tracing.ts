import { context, propagation, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { z } from 'zod';

/** samplingRatioSchema parses a fraction of traces from 0 to 1. */
export const samplingRatioSchema = z.coerce.number().min(0).max(1);

/**
 * DEFAULT_SAMPLING_RATIO is the share of new traces recorded when spans are exported: enough to see every path under
 * load, cheap enough for production.
 */
export const DEFAULT_SAMPLING_RATIO = '0.1';

/** TelemetryOptions names the service and, optionally, where spans go and how many traces are recorded. */
export interface TelemetryOptions {
  service: string;
  /** otlpEndpoint is the collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to its /v1/traces. */
  otlpEndpoint?: string;
  /**
   * samplingRatio is the share of traces started here that are recorded (OTEL_TRACES_SAMPLER_ARG); a caller's sampled
   * flag is followed.
   */
  samplingRatio?: number;
}

/** Telemetry is the running tracer provider; shutdown flushes spans still buffered. */
export interface Telemetry {
  shutdown(): Promise<void>;
}

let exporting = false;

/**
 * spansExported tells whether this process sends spans anywhere. When it does
 * not, code that makes spans only for their own sake (per-resolver spans, the
 * SQL instrumentation) is not installed at all.
 */
export function spansExported(): boolean {
  return exporting;
}

/**
 * startTelemetry registers the global tracer provider (W3C trace context,
 * async-local context). It must run before the first database connection so
 * that `pg` is patched when TypeORM loads it.
 *
 * With an endpoint, traces are sampled parent-based: a request that arrives
 * in a sampled trace is recorded, one that arrives in an unsampled trace is
 * not, and a trace that starts here is recorded with probability samplingRatio.
 * Without an endpoint nothing is recorded (every span is a non-recording one
 * that only carries the trace id, so log lines and audit events still name
 * their trace) and the SQL instrumentation is not installed.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const spanProcessors: SpanProcessor[] = [];
  exporting = Boolean(options.otlpEndpoint);
  if (options.otlpEndpoint) {
    const url = options.otlpEndpoint.replace(/\/+$/, '') + '/v1/traces';
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 }));
  }
  const ratio = options.samplingRatio ?? Number(DEFAULT_SAMPLING_RATIO);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    spanProcessors,
    sampler: exporting ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) : new AlwaysOffSampler(),
  });
  // Without an exporter no context manager: on Node 20 and 22 it hooks every promise the process makes, only to carry
  // spans nobody records. The trace id travels in the request's scope instead (traceparentOf, propagateTrace).
  provider.register(exporting ? {} : { contextManager: null });
  const unregister = exporting
    ? registerInstrumentations({
        tracerProvider: provider,
        instrumentations: [new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true })],
      })
    : () => undefined;
  return {
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}

/** traceparentOf writes a span's context as a W3C `traceparent` header value. */
export function traceparentOf(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** traceIdsOf reads the trace and span ids of a `traceparent` value (as traceparentOf writes it). */
export function traceIdsOf(traceparent: string | undefined): { traceId: string; spanId: string } | undefined {
  const [, traceId, spanId] = traceparent?.split('-') ?? [];
  return traceId && spanId ? { traceId, spanId } : undefined;
}

/**
 * propagateTrace adds the trace to an outgoing request's headers: the active span's where spans are recorded (a
 * resolver's span, say, under the request's), else the request's own traceparent, carried in its scope or caller.
 */
export function propagateTrace(headers: Record<string, string>, traceparent: string | undefined): void {
  const active = context.active();
  if (trace.getSpanContext(active)) propagation.inject(active, headers);
  else if (traceparent) headers.traceparent = traceparent;
}
