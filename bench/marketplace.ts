// npm run bench -- [--duration=20] [--concurrency=16]
// Loads a realistic data set (10,000 users, 200 services, 50,000 orders with
// 2 offers each), then runs the contract's CustomerDashboard and
// MatchingOrders through the gateway under concurrent load, and prints
// requests per second, p50/p99 latency and SQL statements per request.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadSettings, positiveIntSchema, setting } from '../foundation/config.js';
import { adminQuery as sql } from '../foundation/postgres-admin.js';
import { freePort, startStack, type Stack } from '../scripts/stack.js';
import { memory, metricValue } from './readings.js';

const settings = loadSettings(
  {
    duration: setting({ env: 'BENCH_DURATION_SECONDS', doc: 'seconds of load per operation', schema: positiveIntSchema, fallback: '15' }),
    concurrency: setting({ env: 'BENCH_CONCURRENCY', doc: 'requests in flight at once', schema: positiveIntSchema, fallback: '16' }),
    nodeArgs: setting({ env: 'BENCH_NODE_ARGS', doc: 'extra node flags for every service, space-separated (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)', schema: z.string(), fallback: '' }),
    databaseUrl: setting({ env: 'DATABASE_URL', doc: 'PostgreSQL superuser URL (default: an embedded server made for the run)', schema: z.string().optional() }),
  },
  process.argv.slice(2),
  process.env,
  'Fixup marketplace benchmark',
);

const ORDERS = readFileSync(new URL('../../schema/operations/orders.graphql', import.meta.url), 'utf8');
const dataDir = mkdtempSync(join(tmpdir(), 'fixup-bench-'));
chmodSync(dataDir, 0o755);
const say = (text: string) => process.stdout.write(text + '\n');

async function gql(stack: Stack, query: string, variables: Record<string, unknown>, token?: string, operationName?: string) {
  const res = await fetch(stack.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

async function statementsBySubgraph(stack: Stack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of stack.services.filter((s) => s.name !== 'gateway')) out[s.name] = await metricValue(s.url, 'fixup_db_statements_total', 'origin="request"');
  return out;
}

async function load(stack: Stack, name: string, variables: Record<string, unknown>, token: string) {
  const latencies: number[] = [];
  let errors = 0;
  const before = await statementsBySubgraph(stack);
  const deadline = Date.now() + settings.duration * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const res = await gql(stack, ORDERS, variables, token, name);
      latencies.push(performance.now() - started);
      if (res.errors) errors++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  const after = await statementsBySubgraph(stack);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  const perRequest = Object.entries(after)
    .map(([k, v]) => `${k} ${((v - before[k]!) / latencies.length).toFixed(1)}`)
    .join(', ');
  say(`${name}: ${latencies.length} requests in ${seconds.toFixed(1)} s = ${(latencies.length / seconds).toFixed(0)} req/s; p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; errors ${errors}`);
  say(`  SQL statements per request: ${perRequest}`);
  say(`  memory (heap used / resident): ${await memory(stack)}`);
}

let stack: Stack | undefined;
try {
  say('Starting Fixup for the benchmark…');
  stack = await startStack({
    dataDir,
    adminUrl: settings.databaseUrl,
    postgresPort: await freePort(),
    persistent: false,
    prefix: `bench${randomBytes(3).toString('hex')}`,
    ports: {},
    nodeArgs: settings.nodeArgs.split(' ').filter(Boolean),
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', CATALOG_SEED_DEMO: 'false', USER_RATE_LIMIT_IP: '100000' },
  });
  const db = (name: string) => stack!.grants.find((g) => g.database.endsWith(`_${name}`))!.database;
  const admin = stack.adminUrl;
  const register = async (role: string) => {
    const email = `${role.toLowerCase()}-${randomBytes(4).toString('hex')}@bench.example`;
    const res = await gql(stack!, `mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }`, { i: { email, password: 'bench password 123', displayName: `Bench ${role}`, role } });
    return { id: res.data.register.user.id as string, token: res.data.register.accessToken as string };
  };
  const customer = await register('CUSTOMER');
  const provider = await register('PROVIDER');

  say('Loading 10,000 users, 200 services, 50,000 orders with 100,000 offers…');
  const t0 = Date.now();
  await sql(admin, db('user'), `INSERT INTO users (id, email, display_name, roles) SELECT gen_random_uuid(), 'user' || i || '@bench.example', 'User ' || i, CASE WHEN i % 4 = 0 THEN ARRAY['PROVIDER'] ELSE ARRAY['CUSTOMER'] END FROM generate_series(1, 10000) i`);
  const users = (await sql(admin, db('user'), `SELECT id, roles FROM users`)) as { id: string; roles: string[] }[];
  const customers = users.filter((u) => u.roles.includes('CUSTOMER')).map((u) => u.id);
  const providers = users.filter((u) => u.roles.includes('PROVIDER')).map((u) => u.id);
  await sql(admin, db('catalog'), `INSERT INTO categories (id, name) SELECT gen_random_uuid(), 'Category ' || i FROM generate_series(1, 20) i`);
  await sql(admin, db('catalog'), `INSERT INTO services (id, category_id, name, description) SELECT gen_random_uuid(), c.id, c.name || ' service ' || i, 'Description of ' || c.name || ' service ' || i FROM categories c, generate_series(1, 10) i`);
  const services = ((await sql(admin, db('catalog'), `SELECT id FROM services ORDER BY id`)) as { id: string }[]).map((s) => s.id);
  await sql(admin, db('catalog'), `INSERT INTO skills (provider_id, service_id) SELECT p, s FROM unnest($1::uuid[]) p, LATERAL (SELECT unnest($2::uuid[]) s ORDER BY random() LIMIT 5) x ON CONFLICT DO NOTHING`, [providers, services]);
  await sql(admin, db('catalog'), `INSERT INTO skills (provider_id, service_id) SELECT $1, s FROM unnest($2::uuid[]) s ON CONFLICT DO NOTHING`, [provider.id, services.slice(0, 10)]);
  await sql(admin, db('order'), `
    INSERT INTO orders (id, customer_id, service_id, description, created_at)
    SELECT gen_random_uuid(), ($1::uuid[])[1 + (i % array_length($1::uuid[], 1))], ($2::uuid[])[1 + (i % 200)], 'Order ' || i, now() - make_interval(secs => i)
    FROM generate_series(1, 49900) i`, [customers, services]);
  await sql(admin, db('order'), `
    INSERT INTO orders (id, customer_id, service_id, description, created_at)
    SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + (i % 200)], 'My order ' || i, now() - make_interval(secs => i) FROM generate_series(1, 100) i`, [customer.id, services]);
  await sql(admin, db('order'), `
    INSERT INTO offers (id, order_id, provider_id, price_cents, currency)
    SELECT gen_random_uuid(), o.id, ($1::uuid[])[1 + ((o.n * 7 + k) % array_length($1::uuid[], 1))], 1000 + k, 'EUR'
    FROM (SELECT id, row_number() OVER () AS n FROM orders) o, generate_series(1, 2) k`, [providers]);
  const mine = ((await sql(admin, db('order'), `SELECT id FROM orders WHERE customer_id = $1`, [customer.id])) as { id: string }[]).map((o) => o.id);
  await sql(admin, db('chat'), `INSERT INTO conversations (id, order_id, customer_id, provider_id) SELECT gen_random_uuid(), o, $2, $3 FROM unnest($1::uuid[]) o`, [mine, customer.id, providers[0]]);
  for (const name of ['user', 'catalog', 'order', 'chat']) await sql(admin, db(name), 'ANALYZE');
  say(`  loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  say(`Load: ${settings.concurrency} concurrent requests, ${settings.duration} s per operation\n`);
  await load(stack, 'CustomerDashboard', { first: 20 }, customer.token);
  await load(stack, 'MatchingOrders', { first: 20 }, provider.token);
} finally {
  await stack?.stop();
  if (!process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true });
  else say(`kept ${dataDir}`);
}
