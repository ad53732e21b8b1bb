// npm run bench:abuse -- [--duration=30] [--rate=10] [--abusers=4] [--socket-abusers=1]
// Legitimate CustomerDashboard and MatchingOrders traffic at a fixed rate, first
// alone, then while other clients send over-limit documents as fast as they can
// over HTTP and the socket. Prints the legitimate traffic's p50/p99 in both
// phases side by side, the abusive requests answered, CPU milliseconds per
// request summed over every process, and each process's memory.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { z } from 'zod';
import { booleanSchema, loadSettings, positiveIntSchema, setting } from '../foundation/service/config.js';
import { adminQuery as sql } from '../foundation/postgres/admin.js';
import type { Stack } from '../scripts/stack.js';
import { benchStackSettings, startBenchStack } from './bench-stack.js';
import { percentile } from './process-stats.js';
import { GENEROUS_RATE_LIMITS } from '../e2e/harness.js';
import { HOSTILE, HOSTILE_SUBSCRIPTION } from './abuse-documents.js';

const settings = loadSettings(
  {
    duration: setting({
      env: 'BENCH_DURATION_SECONDS',
      doc: 'seconds of each phase (legitimate traffic alone, then under abuse)',
      schema: positiveIntSchema,
      fallback: '30',
    }),
    rate: setting({
      env: 'BENCH_RATE',
      doc: 'legitimate requests per second (half CustomerDashboard, half MatchingOrders); 10 for 30 s gives 300 latencies, so that the 99th percentile is not one slow request',
      schema: positiveIntSchema,
      fallback: '10',
    }),
    abusers: setting({
      env: 'BENCH_ABUSERS',
      doc: 'HTTP clients sending over-limit documents back to back',
      schema: z.coerce.number().int().min(0),
      fallback: '4',
    }),
    socketAbusers: setting({
      env: 'BENCH_SOCKET_ABUSERS',
      doc: 'socket clients sending over-limit subscriptions back to back',
      schema: z.coerce.number().int().min(0),
      fallback: '1',
    }),
    holdRefusals: setting({
      env: 'BENCH_HOLD_REFUSALS',
      doc: "true: the gateway's refusals bucket at its defaults, so that an abuser is held off after its burst (the product as it ships); false: raised like the other buckets, so that every hostile document reaches the checker",
      schema: booleanSchema,
      fallback: 'true',
    }),
    ...benchStackSettings,
  },
  process.argv.slice(2),
  process.env,
  'Fixup abuse benchmark',
);

const ORDERS = readFileSync(new URL('../../schema/operations/orders.graphql', import.meta.url), 'utf8');
const say = (text: string) => process.stdout.write(text + '\n');

async function post(
  stack: Stack,
  body: unknown,
  token?: string,
  address = '198.51.100.1',
): Promise<{ status: number; json: any }> {
  const res = await fetch(stack.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': address,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** cpuMs is the CPU time (user + system) a process has used, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** residentMb is a process's resident memory, from /proc. */
function residentMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

const totalCpu = (stack: Stack) => stack.services.reduce((sum, s) => sum + cpuMs(s.pid), 0);

interface Phase {
  p50: number;
  p99: number;
  legit: number;
  slowest: { ms: number; at: number; name: string }[];
  legitErrors: number;
  abusive: number;
  cpuMsPerLegit: number;
  peakMb: Record<string, number>;
}

async function phase(
  stack: Stack,
  tokens: { customer: string; provider: string; abuser: string },
  abuse: boolean,
): Promise<Phase> {
  const latencies: number[] = [];
  const slowest: { ms: number; at: number; name: string }[] = [];
  const phaseStart = performance.now();
  let legitErrors = 0;
  let abusive = 0;
  const peakMb: Record<string, number> = {};
  const sample = () => {
    for (const s of stack.services) peakMb[s.name] = Math.max(peakMb[s.name] ?? 0, residentMb(s.pid));
  };
  const sampler = setInterval(sample, 200);
  const cpuBefore = totalCpu(stack);
  const deadline = Date.now() + settings.duration * 1000;
  const inFlight: Promise<void>[] = [];
  let running = true;
  const abusers = abuse
    ? [
        ...Array.from({ length: settings.abusers }, async (_, n) => {
          for (let i = 0; running; i++) {
            await post(stack, { query: HOSTILE[(i + n) % HOSTILE.length] }, undefined, `203.0.113.${n + 1}`).catch(
              () => undefined,
            );
            abusive++;
          }
        }),
        ...Array.from({ length: settings.socketAbusers }, async () => {
          const client = createClient({
            url: stack.endpoint.replace(/^http/, 'ws'),
            webSocketImpl: WebSocket,
            retryAttempts: 0,
            // An account of its own: the abuser is not the customer whose dashboard is measured.
            connectionParams: { authorization: `Bearer ${tokens.abuser}` },
          });
          while (running) {
            await new Promise<void>((resolve) =>
              client.subscribe(
                { query: HOSTILE_SUBSCRIPTION },
                { next: () => {}, error: () => resolve(), complete: () => resolve() },
              ),
            );
            abusive++;
          }
          await client.dispose();
        }),
      ]
    : [];
  // Legitimate traffic at a fixed rate, whatever the answers' latency (an open loop, so a slow answer does not slow the
  // offered load).
  for (let i = 0; Date.now() < deadline; i++) {
    const dashboard = i % 2 === 0;
    inFlight.push(
      (async () => {
        const started = performance.now();
        const res = await post(
          stack,
          {
            query: ORDERS,
            operationName: dashboard ? 'CustomerDashboard' : 'MatchingOrders',
            variables: { first: 20 },
          },
          dashboard ? tokens.customer : tokens.provider,
          '192.0.2.10',
        );
        latencies.push(performance.now() - started);
        slowest.push({
          ms: performance.now() - started,
          at: (started - phaseStart) / 1000,
          name: dashboard ? 'CustomerDashboard' : 'MatchingOrders',
        });
        if (res.json.errors) legitErrors++;
      })(),
    );
    await new Promise((r) => setTimeout(r, 1000 / settings.rate));
  }
  await Promise.all(inFlight);
  running = false;
  await Promise.all(abusers);
  clearInterval(sampler);
  sample();
  const cpu = totalCpu(stack) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => percentile(latencies, p);
  return {
    p50: q(0.5),
    p99: q(0.99),
    legit: latencies.length,
    slowest: slowest.sort((a, b) => b.ms - a.ms).slice(0, 3),
    legitErrors,
    abusive,
    cpuMsPerLegit: cpu / latencies.length,
    peakMb,
  };
}

let stack: Stack | undefined;
try {
  say(
    settings.holdRefusals
      ? 'Starting Fixup for the abuse benchmark (rate limits raised but the refusals bucket at its defaults, so that abusers are held off after their burst)…'
      : 'Starting Fixup for the abuse benchmark (rate limits raised, the refusals bucket too, so that every hostile document reaches the checker)…',
  );
  const { GATEWAY_RATE_REFUSALS_PER_MINUTE: _raised, ...generous } = GENEROUS_RATE_LIMITS;
  stack = await startBenchStack({
    name: 'abuse',
    databaseUrl: settings.databaseUrl,
    nodeArgs: settings.nodeArgs.split(' ').filter(Boolean),
    env: {
      ...(settings.holdRefusals ? generous : GENEROUS_RATE_LIMITS),
      GATEWAY_TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'warn',
      CATALOG_SEED_DEMO: 'false',
      USER_RATE_LIMIT_IP: '100000',
    },
  });
  const db = (name: string) => stack!.grants.find((g) => g.database.endsWith(`_${name}`))!.database;
  const register = async (role: string) => {
    const email = `${role.toLowerCase()}-${randomBytes(4).toString('hex')}@bench.example`;
    const res = await post(stack!, {
      query: `mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }`,
      variables: { i: { email, password: 'bench password 123', displayName: `Bench ${role}`, role } },
    });
    return { id: res.json.data.register.user.id as string, token: res.json.data.register.accessToken as string };
  };
  const customer = await register('CUSTOMER');
  const provider = await register('PROVIDER');
  const abuser = await register('CUSTOMER');
  await sql(stack.adminUrl, db('catalog'), `INSERT INTO categories (id, name) VALUES (gen_random_uuid(), 'Bench')`);
  await sql(
    stack.adminUrl,
    db('catalog'),
    `INSERT INTO services (id, category_id, name, description) SELECT gen_random_uuid(), c.id, 'Service ' || i, 'About ' || i FROM categories c, generate_series(1, 10) i`,
  );
  const services = (
    (await sql(stack.adminUrl, db('catalog'), `SELECT id FROM services ORDER BY id`)) as { id: string }[]
  ).map((s) => s.id);
  await sql(
    stack.adminUrl,
    db('catalog'),
    `INSERT INTO skills (provider_id, service_id) SELECT $1, s FROM unnest($2::uuid[]) s`,
    [provider.id, services],
  );
  await sql(
    stack.adminUrl,
    db('order'),
    `INSERT INTO orders (id, customer_id, service_id, description) SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + i % 10], 'Order ' || i FROM generate_series(1, 20) i`,
    [customer.id, services],
  );
  await sql(
    stack.adminUrl,
    db('order'),
    `INSERT INTO offers (id, order_id, provider_id, price_cents, currency) SELECT gen_random_uuid(), id, $1, 1000, 'EUR' FROM orders`,
    [provider.id],
  );
  const resident = () => Object.fromEntries(stack!.services.map((s) => [s.name, residentMb(s.pid)]));
  const started = resident();
  const tokens = { customer: customer.token, provider: provider.token, abuser: abuser.token };
  await phase(stack, tokens, false); // warm-up: plans, caches, JIT
  // At rest is a warmed-up process with nothing to do: it has served the legitimate traffic once (its plans, caches
  // and compiled code are made, its heap sized for that traffic) and then idled.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const atRest: Record<string, number> = resident();
  say(`Phase 1: legitimate traffic alone, ${settings.rate} req/s for ${settings.duration} s…`);
  const alone = await phase(stack, tokens, false);
  say(
    `Phase 2: the same, while ${settings.abusers} HTTP clients and ${settings.socketAbusers} sockets send over-limit documents back to back…`,
  );
  const attacked = await phase(stack, tokens, true);
  say('');
  say('(measured on a shared 2-core machine; figures vary from run to run)');
  say(
    '| phase | legitimate requests | errors | p50 | p99 | abusive requests answered | CPU ms per legitimate request, all processes |',
  );
  say('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, p] of [
    ['alone', alone],
    ['under abuse', attacked],
  ] as const) {
    say(
      `| ${name} | ${p.legit} | ${p.legitErrors} | ${p.p50.toFixed(1)} ms | ${p.p99.toFixed(1)} ms | ${p.abusive} | ${p.cpuMsPerLegit.toFixed(1)} |`,
    );
  }
  for (const [name, p] of [
    ['alone', alone],
    ['under abuse', attacked],
  ] as const)
    say(
      `slowest ${name}: ${p.slowest.map((r) => `${r.ms.toFixed(1)} ms (${r.name}, sent at ${r.at.toFixed(1)} s)`).join(', ')}`,
    );
  say(`p99 under abuse / alone: ${(attacked.p99 / alone.p99).toFixed(2)} (target at most 1.5)`);
  say(
    `memory growth past rest (MB, peak during abuse − at rest; target at most 50): ${stack.services.map((s) => `${s.name} ${(attacked.peakMb[s.name]! - atRest[s.name]!).toFixed(0)}`).join(', ')}`,
  );
  say(
    `for comparison, legitimate traffic alone (MB, peak − at rest): ${stack.services.map((s) => `${s.name} ${(alone.peakMb[s.name]! - atRest[s.name]!).toFixed(0)}`).join(', ')}`,
  );
  say(
    `resident memory (MB) just after start → at rest after the warm-up → peak alone → peak under abuse: ${stack.services.map((s) => `${s.name} ${started[s.name]!.toFixed(0)} → ${atRest[s.name]!.toFixed(0)} → ${alone.peakMb[s.name]!.toFixed(0)} → ${attacked.peakMb[s.name]!.toFixed(0)}`).join(', ')}`,
  );
} finally {
  await stack?.stop();
}
