// npm run bench:gateway -- [--rounds=2] [--duration=4] [--warmup=2] [--connections=50] [--tracing=true]
// [--supergraph-path=<file>]
// Fixup's gateway against stock @apollo/gateway (same version, plain
// @apollo/server, nothing added) on the same supergraph: The Guild's
// federation benchmark (accounts, inventory, products, reviews) served from
// memory by one helper process, so that the gateway is what is measured.
// Each gateway runs pinned to one core (taskset, when there is one), one after
// the other, per query, repeated for some rounds; every response is checked
// against the expected answer. It prints each gateway's requests/s, p50, p99,
// the gateway's CPU per request and its resident memory, and the ratios to stock; then
// the small query one request at a time through each gateway and to its one subgraph
// directly, for what a gateway adds to a request.
// Fixup's gateway runs with production settings (token checks, NODE_ENV=production),
// and, with --tracing, again with spans exported to an OTLP sink at the default
// sampling ratio and at 100%.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SignJWT, importJWK } from 'jose';
import { Pool } from 'undici';
import { z } from 'zod';
import { booleanSchema, loadSettings, positiveIntSchema, setting } from '../foundation/service/config.js';
import { withYoungGenerationBound } from '../foundation/service/process.js';
import { DEFAULT_SAMPLING_RATIO } from '../foundation/telemetry/tracing.js';
import { loadKeySet, publicJwks } from '../foundation/auth/tokens.js';
import { freePort } from '../scripts/stack.js';
import { SUBGRAPHS } from './federation-subgraphs.js';
import { cpuMsOf, residentMbOf, summarize } from './process-stats.js';

const settings = loadSettings(
  {
    rounds: setting({
      env: 'BENCH_ROUNDS',
      doc: 'times every gateway runs every query',
      schema: positiveIntSchema,
      fallback: '2',
    }),
    duration: setting({
      env: 'BENCH_DURATION_SECONDS',
      doc: 'seconds of measured load per gateway and query',
      schema: positiveIntSchema,
      fallback: '4',
    }),
    warmup: setting({
      env: 'BENCH_WARMUP_SECONDS',
      doc: 'seconds of unmeasured load before each measurement',
      schema: positiveIntSchema,
      fallback: '2',
    }),
    connections: setting({
      env: 'BENCH_CONNECTIONS',
      doc: 'requests in flight at once, each on its own connection',
      schema: positiveIntSchema,
      fallback: '50',
    }),
    tracing: setting({
      env: 'BENCH_TRACING',
      doc: "also run Fixup's gateway exporting spans to an OTLP sink, at the default sampling ratio and at 100%",
      schema: booleanSchema,
      fallback: 'true',
    }),
    queries: setting({
      env: 'BENCH_QUERIES',
      doc: 'which queries to run, comma-separated',
      schema: z.string().transform((v) =>
        v
          .split(',')
          .map((q) => q.trim())
          .filter(Boolean),
      ),
      fallback: 'small,medium,heavy',
    }),
    gatewayNodeArgs: setting({
      env: 'BENCH_GATEWAY_NODE_ARGS',
      doc: "extra node flags for Fixup's gateway, space-separated (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)",
      schema: z.string(),
      fallback: '',
    }),
    supergraphPath: setting({
      env: 'BENCH_SUPERGRAPH_PATH',
      doc: 'a supergraph file whose subgraphs already run (the URLs in it): both gateways serve it instead of the built-in subgraphs; the built-in queries must fit it',
      schema: z.string().optional(),
    }),
  },
  process.argv.slice(2),
  process.env,
  'Fixup gateway benchmark',
);

const DIST = fileURLToPath(new URL('../', import.meta.url));
const say = (text: string) => process.stdout.write(text + '\n');

/**
 * QUERIES are the benchmark's operations: one subgraph; three subgraphs with @requires and @provides; and The Guild's
 * nested query.
 */
const QUERIES: Record<string, string> = {
  small: `query Small { topProducts { upc name price } }`,
  medium: `query Medium { topProducts { upc name price weight inStock shippingEstimate reviews { id body author { id username } } } }`,
  heavy: `fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query Heavy {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}`,
};

/** taskset pins a command to one core when the machine has taskset and more than one core. */
const canPin = spawnSync('taskset', ['--version']).status === 0;
function pinned(core: number, command: string, args: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

/** started spawns a process and resolves once a line of its output matches ready. */
async function started(
  name: string,
  command: [string, string[]],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command[0], command[1], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${lines.slice(-20).join('\n')}`)), 60_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (lines.length < 200) lines.push(line);
        if (ready.test(line)) {
          clearTimeout(timer);
          resolve({ child, line });
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${lines.slice(-20).join('\n')}`));
    });
  });
}

/** Gateway is one gateway under test. */
interface Gateway {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
}

/** Result is one gateway's measurement of one query. */
interface Result {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  rssMb: number;
  bytes: number;
  wrong: number;
}

/**
 * load sends one query to one gateway (or subgraph) from `connections` clients at once for a while and checks every
 * answer.
 */
async function load(
  gateway: Gateway,
  query: string,
  seconds: number,
  headers: Record<string, string>,
  expected: string | null,
  connections = settings.connections,
): Promise<{ latencies: number[]; seconds: number; bytes: number; wrong: number; sample: string; firstWrong: string }> {
  const origin = new URL(gateway.url);
  const pool = new Pool(origin.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const body = JSON.stringify({ query });
  const latencies: number[] = [];
  let wrong = 0;
  let bytes = 0;
  let sample = '';
  let firstWrong = '';
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const res = await pool.request({
        path: origin.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      const text = await res.body.text();
      latencies.push(performance.now() - t0);
      bytes = text.length;
      if (!sample) sample = text;
      if (expected !== null && text !== expected && canonical(text) !== expected) {
        if (wrong++ === 0) firstWrong = text;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  return { latencies, seconds: elapsed, bytes, wrong, sample, firstWrong };
}

/** canonical is a response as compared: parsed and printed again, so that formatting does not count. */
function canonical(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

const work = mkdtempSync(join(tmpdir(), 'fixup-bench-gateway-'));
const children: ChildProcess[] = [];
const servers: Server[] = [];
// Stopped from outside (Ctrl-C, a timeout), the benchmark stops the gateways and subgraphs it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  if (canPin) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  say(
    `Gateways pinned to core 0${canPin ? '' : ' (no taskset here: not pinned)'}; subgraphs, sink and load on core 1. ${settings.connections} connections, ${settings.warmup} s warm-up, ${settings.duration} s measured, ${settings.rounds} rounds.`,
  );

  // The subgraphs, unless a supergraph names running ones.
  let supergraphPath = settings.supergraphPath;
  // The small query's one subgraph, called directly to measure what a gateway adds (only with the helper subgraphs).
  let smallSubgraphUrl: string | undefined;
  if (!supergraphPath) {
    const { child, line } = await started(
      'subgraphs',
      pinned(1, process.execPath, [join(DIST, 'bench/federation-subgraphs.js')]),
      {},
      /^\{"subgraphs"/,
    );
    children.push(child);
    const urls = (JSON.parse(line) as { subgraphs: Record<string, string> }).subgraphs;
    smallSubgraphUrl = urls.products;
    const composed = composeServices(
      Object.entries(SUBGRAPHS).map(([name, s]) => ({ name, url: urls[name]!, typeDefs: parse(s.typeDefs) })),
    );
    if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
    supergraphPath = join(work, 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  }

  // What the user subgraph would serve to Fixup's gateway: its JWKS and a quiet session feed; and an OTLP sink.
  const userKeys = await loadKeySet({ file: join(work, 'user.jwks.json'), createIfMissing: true });
  await loadKeySet({ file: join(work, 'gateway-internal.jwks.json'), createIfMissing: true });
  let spanBytes = 0;
  const aux = createServer((req, res) => {
    if (req.url === '/jwks')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(publicJwks(userKeys)));
    if (req.url?.startsWith('/feed')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: synced\ndata: {}\n\n');
      return;
    }
    req.on('data', (c: Buffer) => (spanBytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  servers.push(aux);
  await new Promise<void>((resolve) => aux.listen(0, '127.0.0.1', resolve));
  const auxUrl = `http://127.0.0.1:${(aux.address() as AddressInfo).port}`;
  const accessToken = await new SignJWT({ roles: ['CUSTOMER'], ver: 0, sid: 'bench-session' })
    .setProtectedHeader({ alg: 'EdDSA', kid: userKeys.keys[0]!.kid! })
    .setIssuer('fixup-user')
    .setAudience('fixup')
    .setSubject('00000000-0000-4000-8000-000000000001')
    .setIssuedAt()
    .setExpirationTime('2h')
    .setJti('bench')
    .sign(await importJWK(userKeys.keys[0]!, 'EdDSA'));
  const headers = { authorization: `Bearer ${accessToken}` };
  // Fixup's registered operations are not this supergraph's: the gateway gets an empty manifest.
  const emptyManifest = join(work, 'persisted-query-manifest.json');
  writeFileSync(
    emptyManifest,
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [] }),
  );

  const startFixup = async (name: string, env: Record<string, string>): Promise<Gateway> => {
    const port = await freePort();
    const { child } = await started(
      name,
      // As the stack and the image start it: with V8's young generation bounded (a no-op on Node 20).
      pinned(0, process.execPath, [
        ...withYoungGenerationBound(settings.gatewayNodeArgs.split(' ').filter(Boolean)),
        join(DIST, 'gateway/main.js'),
        '--supergraph-path',
        supergraphPath!,
      ]),
      {
        NODE_ENV: 'production',
        GATEWAY_HTTP_PORT: String(port),
        GATEWAY_ADMIN_PORT: String(await freePort()),
        GATEWAY_INTERNAL_KEYS_FILE: join(work, 'gateway-internal.jwks.json'),
        GATEWAY_JWKS_URL: `${auxUrl}/jwks`,
        GATEWAY_SESSION_EVENTS_URL: `${auxUrl}/feed`,
        // The benchmark's supergraph has no catalog: no feed of skills to follow.
        GATEWAY_CATALOG_EVENTS_URL: '',
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        GATEWAY_OPERATIONS_MANIFEST_PATH: emptyManifest,
        // One user at one address sends all the load: the rate limits stay on but cannot bite,
        // and the heavy query (about 341,000 objects by the cost rule) must pass the cost limit.
        GATEWAY_RATE_USER_PER_SECOND: '1000000',
        GATEWAY_RATE_USER_BURST: '1000000',
        GATEWAY_RATE_ADDRESS_PER_SECOND: '1000000',
        GATEWAY_RATE_ADDRESS_BURST: '1000000',
        GATEWAY_LIMIT_COST: '1000000',
        ...env,
      },
      /"msg":"ready"/,
    );
    children.push(child);
    // The per-request log lines go nowhere here, but are still written, as in production.
    child.stdout!.resume();
    return { name, url: `http://127.0.0.1:${port}/graphql`, pid: child.pid!, child };
  };
  const stockPort = await freePort();
  const stock = await started(
    'stock',
    pinned(0, process.execPath, [
      join(DIST, 'bench/stock-gateway.js'),
      '--supergraph-path',
      supergraphPath,
      '--port',
      String(stockPort),
    ]),
    {},
    /^ready/,
  );
  children.push(stock.child);
  const gateways: Gateway[] = [
    { name: 'stock', url: `http://127.0.0.1:${stockPort}/`, pid: stock.child.pid!, child: stock.child },
  ];
  gateways.push(await startFixup('fixup', {}));
  if (settings.tracing) {
    gateways.push(await startFixup(`fixup+otlp ${DEFAULT_SAMPLING_RATIO}`, { OTEL_EXPORTER_OTLP_ENDPOINT: auxUrl }));
    gateways.push(
      await startFixup('fixup+otlp 1', { OTEL_EXPORTER_OTLP_ENDPOINT: auxUrl, OTEL_TRACES_SAMPLER_ARG: '1' }),
    );
  }

  // The expected answers: stock's, which must have no errors.
  const expected: Record<string, string> = {};
  for (const [name, query] of Object.entries(QUERIES)) {
    const { sample } = await load(gateways[0]!, query, 0.2, headers, null);
    const parsed = JSON.parse(sample) as { errors?: unknown };
    if (parsed.errors) throw new Error(`stock gateway answered ${name} with errors: ${sample.slice(0, 500)}`);
    expected[name] = canonical(sample);
  }

  const results: Record<string, Record<string, Result[]>> = {};
  for (let round = 1; round <= settings.rounds; round++) {
    say(`\nRound ${round}`);
    for (const [queryName, query] of Object.entries(QUERIES).filter(([name]) => settings.queries.includes(name))) {
      for (const gateway of gateways) {
        await load(gateway, query, settings.warmup, headers, expected[queryName]!);
        const cpu0 = cpuMsOf({ name: gateway.name, pid: gateway.pid });
        const run = await load(gateway, query, settings.duration, headers, expected[queryName]!);
        const cpu = cpuMsOf({ name: gateway.name, pid: gateway.pid }) - cpu0;
        const { count, p50, p99 } = summarize(run.latencies);
        const result: Result = {
          rps: count / run.seconds,
          p50,
          p99,
          cpuMsPerRequest: cpu / count,
          rssMb: residentMbOf(gateway.pid).now,
          bytes: run.bytes,
          wrong: run.wrong,
        };
        ((results[queryName] ??= {})[gateway.name] ??= []).push(result);
        say(
          `  ${queryName.padEnd(6)} ${gateway.name.padEnd(16)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${p50.toFixed(1).padStart(6)} ms  p99 ${p99.toFixed(1).padStart(7)} ms  ` +
            `gateway CPU ${result.cpuMsPerRequest.toFixed(2)} ms/req  RSS ${result.rssMb.toFixed(0)} MB  answer ${(run.bytes / 1024).toFixed(1)} KB` +
            (run.wrong > 0 ? `  WRONG ANSWERS ${run.wrong}` : ''),
        );
        if (run.wrong > 0) {
          process.exitCode = 1;
          const errors = (JSON.parse(run.firstWrong) as { errors?: unknown }).errors;
          say(
            `    first wrong answer: ${errors ? JSON.stringify(errors).slice(0, 400) : run.firstWrong.slice(0, 400)}`,
          );
        }
      }
    }
  }

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  say(
    `\nMedians over ${settings.rounds} rounds (ratio to stock: requests/s higher is better; CPU, p99 and RSS lower is better)`,
  );
  say('| query | gateway | req/s | × stock | p50 ms | p99 ms | CPU ms/req | RSS MB |');
  say('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [queryName, byGateway] of Object.entries(results)) {
    const base = median(byGateway.stock!.map((r) => r.rps));
    for (const [name, runs] of Object.entries(byGateway)) {
      const rps = median(runs.map((r) => r.rps));
      say(
        `| ${queryName} | ${name} | ${rps.toFixed(0)} | ${(rps / base).toFixed(2)} | ${median(runs.map((r) => r.p50)).toFixed(1)} | ${median(runs.map((r) => r.p99)).toFixed(1)} | ` +
          `${median(runs.map((r) => r.cpuMsPerRequest)).toFixed(2)} | ${Math.max(...runs.map((r) => r.rssMb)).toFixed(0)} |` +
          (runs.some((r) => r.wrong > 0) ? ' WRONG ANSWERS |' : ''),
      );
    }
  }
  // What a gateway adds to one request: the small query one at a time, through each gateway and to its one subgraph
  // directly (issue 17: Fixup's p50 at most 1 ms over the direct call).
  if (smallSubgraphUrl && settings.queries.includes('small')) {
    const direct: Gateway = { name: 'products subgraph', url: smallSubgraphUrl, pid: 0, child: undefined as never };
    say('\nOverhead on the small query, one request at a time (p50 ms; the subgraph called directly is the base):');
    const p50s: Record<string, number> = {};
    for (const target of [direct, ...gateways]) {
      await load(target, QUERIES.small!, settings.warmup, headers, null, 1);
      const run = await load(target, QUERIES.small!, settings.duration, headers, expected.small!, 1);
      p50s[target.name] = summarize(run.latencies).p50;
      if (run.wrong > 0) {
        process.exitCode = 1;
        say(`  ${target.name}: ${run.wrong} WRONG ANSWERS, first: ${run.firstWrong.slice(0, 300)}`);
      }
    }
    const base = p50s[direct.name]!;
    for (const [name, p50] of Object.entries(p50s))
      say(
        `  ${name.padEnd(18)} p50 ${p50.toFixed(2).padStart(6)} ms` +
          (name === direct.name ? '' : `  (+${(p50 - base).toFixed(2)} ms over the subgraph)`),
      );
  }
  for (const gateway of gateways) {
    const { peak } = residentMbOf(gateway.pid);
    say(`peak RSS ${gateway.name}: ${peak.toFixed(0)} MB`);
  }
  if (settings.tracing) say(`OTLP sink received ${(spanBytes / 1e6).toFixed(1)} MB of spans`);
} finally {
  // SIGINT lets a gateway started with --cpu-prof write its profile as it exits.
  for (const child of children) child.kill('SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const server of servers) (server.closeAllConnections?.(), server.close());
  rmSync(work, { recursive: true, force: true });
}
