import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { DEFAULT_SAMPLING_RATIO, samplingRatioSchema, startTelemetry } from '../telemetry/tracing.js';
import { logLevelSchema, nonNegativeIntSchema, optionalUrlSchema, setting } from './config.js';
import { Lifecycle } from './lifecycle.js';

/**
 * processSettings are the settings of a process's basics that every process has (logging, tracing, V8's heap growth),
 * under the ecosystem's shared names.
 */
export function processSettings() {
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
    heapGrowthPercent: setting({
      env: 'V8_HEAP_GROWTH_PERCENT',
      doc: "how far V8's old generation may grow past what its last full collection kept before it collects again, in percent; 0 keeps V8's own factor (up to 300% with a large heap limit: processes settled 100-150 MB above their live heap)",
      schema: nonNegativeIntSchema,
      fallback: '50',
    }),
    heapGrowthMaxMb: setting({
      env: 'V8_HEAP_GROWTH_MAX_MB',
      doc: "the most V8's old generation may grow past what its last full collection kept, in MB, down to half of V8_HEAP_GROWTH_PERCENT: a process whose live heap is large (a gateway holding 10,000 subscriptions) keeps less room for garbage; 0: no bound in MB",
      schema: nonNegativeIntSchema,
      fallback: '64',
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
  heapGrowthPercent: number;
  heapGrowthMaxMb: number;
  shutdownTimeoutMs: number;
}

/** ProcessBasics are what every process runs on: its logger and the lifecycle that owns its signals and shutdown. */
export interface ProcessBasics {
  logger: Logger;
  lifecycle: Lifecycle;
  /** failedToStart logs why the process could not start, runs the shutdown steps added so far, and exits 1. */
  failedToStart(err: unknown): Promise<never>;
  /**
   * started is called once the start's work is done (schemas built, operations planned), before serving: it collects
   * the start's garbage, so that the bound on heap growth counts from the heap the process serves with.
   */
  started(): void;
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
 * boundHeapGrowth sets how far V8's old generation grows past what its last full collection kept (percent) before the
 * next one. V8 picks that factor from the heap limit, and with the limit it derives from a machine's memory (4 GB here)
 * the factor reaches 4: a process whose live heap is 40-60 MB settled at 290-340 MB resident under the marketplace
 * benchmark. At 50% every process stayed under 215 MB, for 2-4 points more of its time in GC (docs/performance.md,
 * lever 21). Unlike a heap limit it never makes a process fail for memory. The flag is read at each full collection.
 * A `--heap-growing-percent` on the command line wins.
 */
function boundHeapGrowth(percent: number): boolean {
  if (percent === 0 || process.execArgv.some((arg) => arg.includes('heap-growing-percent'))) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

/**
 * heapGrowthPercentFor is the bound on heap growth for a live heap of liveBytes: `percent`, unless that is more than
 * maxMb, and then what maxMb is of the live heap, but never less than half of `percent`. With 50% and 64 MB a process
 * whose live heap is under 128 MB (every process serving requests) keeps 50%; a gateway holding 10,000 subscriptions
 * (about 320 MB live) gets 25%.
 */
export function heapGrowthPercentFor(liveBytes: number, percent: number, maxMb: number): number {
  if (maxMb === 0 || liveBytes <= 0) return percent;
  const inMb = Math.floor((maxMb * 1024 * 1024 * 100) / liveBytes);
  return Math.max(Math.ceil(percent / 2), Math.min(percent, inMb));
}

/** oldGenerationUsed is the used size of every heap space but the young generation's, in bytes. */
function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics())
    if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space')
      used += space.space_used_size;
  return used;
}

/**
 * followLiveHeap sets the bound on heap growth after each full collection from the old generation's used size read
 * just after it (heapGrowthPercentFor; the young generation is left out, as V8 leaves it out of the limit), for V8 to
 * apply when the next full collection sets its limit: the bound lags one collection behind the heap it follows. One
 * bound for all was either too loose for a large live heap or too tight for a small one: at 50% the gateway's resident
 * memory per subscription swung around the 30 KB target with when it last collected (half of a 300 MB live heap is
 * room for garbage), and at 25% for every heap the gateway's CPU per request under the marketplace's dashboard rose by
 * about a tenth (docs/performance.md, lever 48). It returns what stops it.
 */
function followLiveHeap(percent: number, maxMb: number): () => void {
  if (maxMb === 0) return () => {};
  let current = percent;
  const observer = new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some(
        (entry) => (entry as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (!major) return;
    const next = heapGrowthPercentFor(oldGenerationUsed(), percent, maxMb);
    if (next === current) return;
    current = next;
    setFlagsFromString(`--heap-growing-percent=${next}`);
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/**
 * YOUNG_GENERATION_FLAG bounds V8's young generation where Node 20 has it: semi-spaces of 16 MB, a new space of at
 * most 32 MB. From Node 22 V8 sizes them from the heap limit, and with the 4 GB limit it derives from this machine's
 * memory a new space grows to 128 MB: under the marketplace benchmark on Node 24 the gateway peaked at 330 MB and
 * user, catalog and order at 260-287 MB, against 244 MB and 186-194 MB with the flag, for the same CPU per request
 * (docs/performance.md, lever 26). V8 reads it only as the process starts (set later, it changes nothing), so it is a
 * flag of the command line or of NODE_OPTIONS: the stack passes it to every process it starts
 * (withYoungGenerationBound), the image sets NODE_OPTIONS, and a process started without it says so at start.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16';

/** withYoungGenerationBound gives node flags with YOUNG_GENERATION_FLAG first, unless they set the size themselves. */
export function withYoungGenerationBound(flags: readonly string[] = []): string[] {
  return flags.some((flag) => flag.startsWith('--max-semi-space-size'))
    ? [...flags]
    : [YOUNG_GENERATION_FLAG, ...flags];
}

/** youngGenerationBounded: this process was started with a semi-space size (its command line or NODE_OPTIONS). */
function youngGenerationBounded(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((flag) => flag.startsWith('--max-semi-space-size'));
}

/**
 * collectStartGarbage runs one full collection. The growth bound applies from a process's first full collection on;
 * before it, V8's initial limit held, and the gateway's first one came only under the first load, at 284 MB resident
 * (191 MB after its start, 190-200 MB for the rest of the run). Node gives `gc` only to a process started with
 * --expose-gc, so the flag is set for a moment, as V8's own tests do.
 */
export function collectStartGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  gc();
}

/**
 * startProcess is how every Fixup process begins, the gateway's `main.ts` and
 * each subgraph's (through runSubgraph) alike: tracing first, then the logger,
 * the lifecycle (signals; shutdown steps run in reverse, so spans flush last),
 * and one `starting` line with the settings, secrets masked.
 */
export function startProcess(service: string, settings: ProcessSettings, printableSettings: unknown): ProcessBasics {
  keepRequestGarbageYoung();
  const bounded = boundHeapGrowth(settings.heapGrowthPercent);
  const stopFollowing = bounded ? followLiveHeap(settings.heapGrowthPercent, settings.heapGrowthMaxMb) : () => {};
  const telemetry = startTelemetry({
    service,
    otlpEndpoint: settings.otlpEndpoint,
    samplingRatio: settings.tracesSamplingRatio,
  });
  const logger = createLogger({ service, level: settings.logLevel });
  const lifecycle = new Lifecycle(logger, settings.shutdownTimeoutMs);
  lifecycle.listen();
  lifecycle.onShutdown({ name: 'telemetry', stop: () => telemetry.shutdown() });
  lifecycle.onShutdown({ name: 'heap growth', stop: async () => stopFollowing() });
  logger.info({ settings: printableSettings }, 'starting');
  if (Number(process.versions.node.split('.')[0]) >= 22 && !youngGenerationBounded())
    logger.warn(
      { flag: YOUNG_GENERATION_FLAG },
      "V8's young generation is sized from the heap limit (a new space of up to 128 MB per process on this Node): start node with the flag (the stack and the image do)",
    );
  return {
    logger,
    lifecycle,
    started() {
      if (bounded) collectStartGarbage();
    },
    async failedToStart(err) {
      logger.fatal({ err }, 'failed to start');
      await lifecycle.shutdown('failed to start');
      process.exit(1);
    },
  };
}
