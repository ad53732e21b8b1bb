import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { spansExported, startTelemetry } from './tracing.js';

describe('telemetry with an exporter and a parent-based ratio sampler', () => {
  // A collector that takes whatever it is sent: the test looks at sampling decisions, not at delivery.
  const collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  let telemetry: ReturnType<typeof startTelemetry>;
  before(async () => {
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    telemetry = startTelemetry({
      service: 'telemetry-test',
      otlpEndpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      samplingRatio: 0,
    });
  });
  after(async () => {
    await telemetry.shutdown();
    collector.close();
  });
  const tracer = trace.getTracer('telemetry-test');

  it('says spans are exported', () => {
    assert.equal(spansExported(), true);
  });

  it('records no trace that starts here when the ratio is 0, yet every span has a trace id to log', () => {
    const span = tracer.startSpan('root');
    assert.equal(span.isRecording(), false);
    assert.match(span.spanContext().traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(span.spanContext().traceId, '0'.repeat(32));
    span.end();
  });

  it('records a request that arrives in a sampled trace, and continues that trace', () => {
    const traceId = 'a'.repeat(32);
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${traceId}-${'b'.repeat(16)}-01` });
    const span = tracer.startSpan('child', {}, parent);
    assert.equal(span.isRecording(), true);
    assert.equal(span.spanContext().traceId, traceId);
    span.end();
  });

  it('does not record a request that arrives in an unsampled trace, but keeps its trace id', () => {
    const traceId = 'c'.repeat(32);
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${traceId}-${'d'.repeat(16)}-00` });
    const span = context.with(parent, () => tracer.startSpan('child'));
    assert.equal(span.isRecording(), false);
    assert.equal(span.spanContext().traceId, traceId);
    span.end();
  });
});
