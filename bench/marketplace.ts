// npm run bench -- [--duration=15] [--concurrency=8] [--warmup=3]
// Loads a marketplace (10,000 users of whom 2,500 providers, each with 3-8
// services of their own; 200 services whose popularity is skewed, a few
// popular and a long tail; 50,000 orders spread over services the same way,
// with up to 2 offers each from providers who have the service, and a
// customer with 20 orders of up to 10 offers each), prints what it loaded,
// then runs the contract's CustomerDashboard and MatchingOrders through the
// gateway under concurrent load, after a few seconds of the same load that are
// not measured (the processes compile the operation's code paths then, as a
// running service has long done). For each it prints what one answer holds
// (objects and bytes), requests per second, p50/p99 latency, CPU milliseconds
// per request summed over every process (gateway, subgraphs, PostgreSQL) with
// each one's share, SQL statements per request, and each process's resident memory.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadSettings, nonNegativeIntSchema, positiveIntSchema, setting } from '../foundation/service/config.js';
import { adminQuery as sql } from '../foundation/postgres/admin.js';
import type { Stack } from '../scripts/stack.js';
import { benchStackSettings, startBenchStack } from './bench-stack.js';
import { CpuMeter, describeCpu, describeMemory, quantiles, summarize, type MeasuredProcess } from './process-stats.js';
import { metricValue } from './readings.js';
import { GENEROUS_RATE_LIMITS } from '../e2e/harness.js';

/** SKEW is the popularity exponent: the service of rank r is asked for and offered in proportion to r^-SKEW. */
const SKEW = 0.7;

const settings = loadSettings(
  {
    duration: setting({
      env: 'BENCH_DURATION_SECONDS',
      doc: 'seconds of load per operation',
      schema: positiveIntSchema,
      fallback: '15',
    }),
    concurrency: setting({
      env: 'BENCH_CONCURRENCY',
      doc: 'requests in flight at once',
      schema: positiveIntSchema,
      fallback: '8',
    }),
    warmup: setting({
      env: 'BENCH_WARMUP_SECONDS',
      doc: "seconds of the same load before each operation's measured run, not counted (JIT compilation of its paths)",
      schema: nonNegativeIntSchema,
      fallback: '3',
    }),
    ...benchStackSettings,
  },
  process.argv.slice(2),
  process.env,
  'Fixup marketplace benchmark',
);

/**
 * registered is a registered operation's text as the manifest has it: sent as a frontend sends it, the gateway finds it
 * among the registered operations (planned and measured at start) rather than checking a new document.
 */
const MANIFEST = JSON.parse(
  readFileSync(new URL('../../schema/persisted-query-manifest.json', import.meta.url), 'utf8'),
) as { operations: { name: string; body: string }[] };
function registered(name: string): string {
  const op = MANIFEST.operations.find((o) => o.name === name);
  if (!op) throw new Error(`${name} is not a registered operation`);
  return op.body;
}
const say = (text: string) => process.stdout.write(text + '\n');

async function gql(
  stack: Stack,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
  operationName?: string,
) {
  const res = await fetch(stack.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

/**
 * statementsBySubgraph reads each subgraph's count of statements sent serving requests; where statements are not
 * counted per request (the default before Node 24), the unattributed ones, which may include a little background work
 * (the session feed's reads, say; the outbox relay's polls are marked as background).
 */
async function statementsBySubgraph(stack: Stack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of stack.services.filter((s) => s.name !== 'gateway'))
    out[s.name] =
      (await metricValue(s.admin, 'fixup_db_statements_total', 'origin="request"')) +
      (await metricValue(s.admin, 'fixup_db_statements_total', 'origin="unattributed"'));
  return out;
}

/** objectsIn counts the JSON objects an answer holds: the work a figure is read against. */
function objectsIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + objectsIn(v), 0);
  if (value && typeof value === 'object') return 1 + Object.values(value).reduce((n: number, v) => n + objectsIn(v), 0);
  return 0;
}

async function load(
  stack: Stack,
  name: string,
  variables: Record<string, unknown>,
  token: string,
  processes: MeasuredProcess[],
) {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const sample = await gql(stack, registered(name), variables, token, name);
  const sampleText = JSON.stringify(sample);
  say(
    `${name}: one answer holds ${objectsIn(sample.data)} objects, ${(Buffer.byteLength(sampleText) / 1024).toFixed(1)} KB${sample.errors ? `, errors: ${JSON.stringify(sample.errors).slice(0, 300)}` : ''}`,
  );
  // The warm-up: the same load, unmeasured (its errors are reported apart).
  let deadline = Date.now() + settings.warmup * 1000;
  let measured = false;
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const res = await gql(stack, registered(name), variables, token, name);
      if (measured) latencies.push(performance.now() - started);
      if (res.errors) {
        errors++;
        firstError ??= res.errors[0];
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  const warmupErrors = errors;
  errors = 0;
  measured = true;
  const before = await statementsBySubgraph(stack);
  const cpu = new CpuMeter(processes);
  cpu.begin();
  deadline = Date.now() + settings.duration * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  const reading = cpu.end();
  const after = await statementsBySubgraph(stack);
  const { count, p50, p99 } = summarize(latencies);
  const perRequest = Object.entries(after)
    .map(([k, v]) => `${k} ${((v - before[k]!) / count).toFixed(1)}`)
    .join(', ');
  say(
    `  ${count} requests in ${seconds.toFixed(1)} s = ${(count / seconds).toFixed(0)} req/s; p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; errors ${errors}${warmupErrors ? ` (and ${warmupErrors} during the warm-up)` : ''}${firstError ? ` (first: ${JSON.stringify(firstError).slice(0, 200)})` : ''}`,
  );
  say(`  ${describeCpu(reading, count)}`);
  say(`  SQL statements per request: ${perRequest}`);
  say(`  resident memory after the run: ${describeMemory(processes)}`);
}

let stack: Stack | undefined;
try {
  say('Starting Fixup for the benchmark…');
  stack = await startBenchStack({
    name: 'marketplace',
    databaseUrl: settings.databaseUrl,
    nodeArgs: settings.nodeArgs.split(' ').filter(Boolean),
    // Production settings, as issue 17's targets say: NODE_ENV=production in every process.
    production: true,
    env: {
      ...GENEROUS_RATE_LIMITS,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      CATALOG_SEED_DEMO: 'false',
      USER_RATE_LIMIT_IP: '100000',
    },
  });
  const db = (name: string) => stack!.grants.find((g) => g.database.endsWith(`_${name}`))!.database;
  const admin = stack.adminUrl;
  const register = async (role: string) => {
    const email = `${role.toLowerCase()}-${randomBytes(4).toString('hex')}@bench.example`;
    const res = await gql(stack!, `mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }`, {
      i: { email, password: 'bench password 123', displayName: `Bench ${role}`, role },
    });
    return { id: res.data.register.user.id as string, token: res.data.register.accessToken as string };
  };
  const customer = await register('CUSTOMER');
  const provider = await register('PROVIDER');

  say('Loading 10,000 users, 200 services (popularity skewed), 50,000 orders with offers…');
  const t0 = Date.now();
  await sql(
    admin,
    db('user'),
    `INSERT INTO users (id, email, display_name, roles) SELECT gen_random_uuid(), 'user' || i || '@bench.example', 'User ' || i, CASE WHEN i % 4 = 0 THEN ARRAY['PROVIDER'] ELSE ARRAY['CUSTOMER'] END FROM generate_series(1, 10000) i`,
  );
  const users = (await sql(admin, db('user'), `SELECT id, roles FROM users`)) as { id: string; roles: string[] }[];
  const customers = users.filter((u) => u.roles.includes('CUSTOMER') && u.id !== customer.id).map((u) => u.id);
  const providers = users.filter((u) => u.roles.includes('PROVIDER')).map((u) => u.id);
  await sql(
    admin,
    db('catalog'),
    `INSERT INTO categories (id, name) SELECT gen_random_uuid(), 'Category ' || i FROM generate_series(1, 20) i`,
  );
  await sql(
    admin,
    db('catalog'),
    `INSERT INTO services (id, category_id, name, description) SELECT gen_random_uuid(), c.id, c.name || ' service ' || i, 'Description of ' || c.name || ' service ' || i FROM categories c, generate_series(1, 10) i`,
  );
  // Services in order of popularity: the first is the most asked for and the most offered.
  const services = ((await sql(admin, db('catalog'), `SELECT id FROM services ORDER BY id`)) as { id: string }[]).map(
    (s) => s.id,
  );
  // Each provider draws 3 to 8 services of their own, weighted by popularity (weight rank^-${SKEW}, sampled
  // without replacement: the largest random()^(1/weight) win). The subquery names p, so it runs once per provider.
  await sql(
    admin,
    db('catalog'),
    `
    INSERT INTO skills (provider_id, service_id)
    SELECT p.id, s.id FROM unnest($1::uuid[]) AS p(id)
    CROSS JOIN LATERAL (
      SELECT s.id FROM unnest($2::uuid[]) WITH ORDINALITY AS s(id, rank)
      WHERE p.id IS NOT NULL
      ORDER BY power(random(), power(s.rank, ${SKEW})) DESC
      LIMIT 3 + abs(hashtext(p.id::text)) % 6
    ) s ON CONFLICT DO NOTHING`,
    [providers, services],
  );
  await sql(
    admin,
    db('catalog'),
    `INSERT INTO skills (provider_id, service_id) SELECT $1, s FROM unnest($2::uuid[]) s ON CONFLICT DO NOTHING`,
    [provider.id, services.slice(0, 8)],
  );
  // Orders go to services with the same skew: rank = ceil(n · u^(1/(1-skew))) has density ∝ rank^-skew.
  const rank = `least(${services.length}, greatest(1, ceil(${services.length} * power(random(), ${(1 / (1 - SKEW)).toFixed(4)}))::int))`;
  await sql(
    admin,
    db('order'),
    `
    INSERT INTO orders (id, customer_id, service_id, description, created_at)
    SELECT gen_random_uuid(), ($1::uuid[])[1 + (i % array_length($1::uuid[], 1))], ($2::uuid[])[${rank}], 'Order ' || i, now() - make_interval(secs => i)
    FROM generate_series(1, 49980) i`,
    [customers, services],
  );
  await sql(
    admin,
    db('order'),
    `
    INSERT INTO orders (id, customer_id, service_id, description, created_at)
    SELECT gen_random_uuid(), $1, ($2::uuid[])[${rank}], 'My order ' || i, now() - make_interval(secs => i) FROM generate_series(1, 20) i`,
    [customer.id, services],
  );
  const skills = (await sql(
    admin,
    db('catalog'),
    `SELECT service_id, array_agg(provider_id) AS providers FROM skills GROUP BY service_id`,
  )) as { service_id: string; providers: string[] }[];
  const skilled = new Map(skills.map((s) => [s.service_id, s.providers]));
  // Every other order gets up to 2 offers, the customer's up to 10, each from a provider who has the order's service as
  // a skill.
  const orders = (await sql(admin, db('order'), `SELECT id, service_id, customer_id = $1 AS mine FROM orders`, [
    customer.id,
  ])) as { id: string; service_id: string; mine: boolean }[];
  const offerRows: { order: string[]; provider: string[] } = { order: [], provider: [] };
  for (const [i, o] of orders.entries()) {
    const candidates = skilled.get(o.service_id) ?? [];
    const count = Math.min(candidates.length, o.mine ? 10 : i % 3);
    const start = (i * 7919) % Math.max(1, candidates.length);
    for (let k = 0; k < count; k++) {
      offerRows.order.push(o.id);
      offerRows.provider.push(candidates[(start + k) % candidates.length]!);
    }
  }
  await sql(
    admin,
    db('order'),
    `
    INSERT INTO offers (id, order_id, provider_id, price_cents, currency)
    SELECT gen_random_uuid(), o, p, 1000 + (row_number() OVER ())::int % 5000, 'EUR' FROM unnest($1::uuid[], $2::uuid[]) AS x(o, p)`,
    [offerRows.order, offerRows.provider],
  );
  const mine = orders.filter((o) => o.mine).map((o) => o.id);
  await sql(
    admin,
    db('chat'),
    `INSERT INTO conversations (id, order_id, customer_id, provider_id) SELECT gen_random_uuid(), o, $2, $3 FROM unnest($1::uuid[]) o`,
    [mine, customer.id, providers[0]],
  );
  for (const name of ['user', 'catalog', 'order', 'chat']) await sql(admin, db(name), 'ANALYZE');
  say(`  loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const perService = quantiles(services.map((id) => skilled.get(id)?.length ?? 0));
  const offerCounts = (await sql(
    admin,
    db('order'),
    `SELECT o.customer_id = $1 AS mine, count(f.id)::int AS n FROM orders o LEFT JOIN offers f ON f.order_id = o.id GROUP BY o.id`,
    [customer.id],
  )) as { mine: boolean; n: number }[];
  const allOffers = quantiles(offerCounts.map((r) => r.n));
  const myOffers = quantiles(offerCounts.filter((r) => r.mine).map((r) => r.n));
  say(
    `  providers per service: min ${perService.min}, median ${perService.median}, max ${perService.max} (${skills.reduce((a, s) => a + s.providers.length, 0)} skills of ${providers.length} providers)`,
  );
  say(
    `  offers per order: min ${allOffers.min}, median ${allOffers.median}, max ${allOffers.max}; the dashboard customer's ${mine.length} orders: min ${myOffers.min}, median ${myOffers.median}, max ${myOffers.max}`,
  );

  const processes: MeasuredProcess[] = [
    ...stack.services.map((s) => ({ name: s.name, pid: s.pid })),
    ...(stack.postgresPid ? [{ name: 'postgres', pid: stack.postgresPid, tree: true }] : []),
  ];
  say(
    `Load: ${settings.concurrency} concurrent requests, ${settings.duration} s per operation after ${settings.warmup} s of warm-up${stack.postgresPid ? '' : ' (PostgreSQL is external: its CPU is not counted)'}\n`,
  );
  await load(stack, 'CustomerDashboard', { first: 20 }, customer.token, processes);
  await load(stack, 'MatchingOrders', { first: 20 }, provider.token, processes);
} finally {
  await stack?.stop();
}
