import { setFlagsFromString } from 'node:v8';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { DEFAULT_SAMPLING_RATIO, samplingRatioSchema, startTelemetry } from '../telemetry/tracing.js';
import { logLevelSchema, optionalUrlSchema, setting } from './config.js';
import { Lifecycle } from './lifecycle.js';

/** observabilitySettings are the logging and tracing settings every process has, under the ecosystem's shared names. */
export function observabilitySettings() {
  return {
    logLevel: setting({
      env: 'LOG_LEVEL',
      doc: 'fatal, error, warn, info, debug, trace or silent',
      schema: logLevelSchema,
      fallback: 'info',
    }),
    otlpEndpoint: setting({
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      doc: 'OpenTelemetry collector base URL for traces (OTLP over HTTP); none: spans are not exported',
      schema: optionalUrlSchema,
    }),
    tracesSamplingRatio: setting({
      env: 'OTEL_TRACES_SAMPLER_ARG',
      doc: "share of the traces started here that are recorded and exported, 0 to 1 (parent-based: a caller's sampled or unsampled trace is followed); 1 records every request",
      schema: samplingRatioSchema,
      fallback: DEFAULT_SAMPLING_RATIO,
    }),
  };
}

/**
 * ProcessSettings are the settings of a process's basics, named alike in the gateway's and every subgraph's settings.
 */
export interface ProcessSettings {
  logLevel: string;
  otlpEndpoint?: string;
  tracesSamplingRatio?: number;
  shutdownTimeoutMs: number;
}

/** ProcessBasics are what every process runs on: its logger and the lifecycle that owns its signals and shutdown. */
export interface ProcessBasics {
  logger: Logger;
  lifecycle: Lifecycle;
  /** failedToStart logs why the process could not start, runs the shutdown steps added so far, and exits 1. */
  failedToStart(err: unknown): Promise<never>;
}

/**
 * keepRequestGarbageYoung turns off V8's allocation-site pretenuring unless
 * the process was started with `--allocation-site-pretenuring`. At start a
 * process parses large documents that live for good (the supergraph, the
 * registered operations, its own schema), so V8 learns that objects from
 * graphql-js's parser survive and allocates them in old space from then on:
 * every request's parse tree then went straight to old space, to wait for a
 * major GC (about 7 KB per request, a gateway 100 MB above its resting memory
 * under a flood of small documents). Without pretenuring a request's garbage
 * dies in the young generation. Measured in docs/performance.md (lever 10). The
 * flag is read at each garbage collection, so setting it before the first
 * parse is enough.
 */
function keepRequestGarbageYoung(): void {
  if (process.execArgv.some((arg) => arg.includes('allocation-site-pretenuring'))) return;
  setFlagsFromString('--no-allocation-site-pretenuring');
}

/**
 * startProcess is how every Fixup process begins, the gateway's `main.ts` and
 * each subgraph's (through runSubgraph) alike: tracing first, then the logger,
 * the lifecycle (signals; shutdown steps run in reverse, so spans flush last),
 * and one `starting` line with the settings, secrets masked.
 */
export function startProcess(service: string, settings: ProcessSettings, printableSettings: unknown): ProcessBasics {
  keepRequestGarbageYoung();
  const telemetry = startTelemetry({
    service,
    otlpEndpoint: settings.otlpEndpoint,
    samplingRatio: settings.tracesSamplingRatio,
  });
  const logger = createLogger({ service, level: settings.logLevel });
  const lifecycle = new Lifecycle(logger, settings.shutdownTimeoutMs);
  lifecycle.listen();
  lifecycle.onShutdown({ name: 'telemetry', stop: () => telemetry.shutdown() });
  logger.info({ settings: printableSettings }, 'starting');
  return {
    logger,
    lifecycle,
    async failedToStart(err) {
      logger.fatal({ err }, 'failed to start');
      await lifecycle.shutdown('failed to start');
      process.exit(1);
    },
  };
}
