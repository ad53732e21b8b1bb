// npm run bench:chat -- [--conversations=500] [--rate=50] [--duration=20]
// Opens two graphql-ws clients per conversation (customer and provider)
// through the gateway, sends messages at a fixed rate, and prints delivery
// latency from sendMessage returning to receipt (p50, p99, max), messages
// lost (must be 0), CPU milliseconds per message summed over every process
// with each one's share, and each process's memory.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { SignJWT, importJWK, type JWK } from 'jose';
import WebSocket from 'ws';
import { z } from 'zod';
import { loadSettings, positiveIntSchema, setting } from '../foundation/config.js';
import { adminQuery as sql } from '../foundation/postgres-admin.js';
import { freePort, startStack, type Stack } from '../scripts/stack.js';
import { CpuMeter, describeCpu, describeMemory, type MeasuredProcess } from './process-stats.js';
import { memory } from './readings.js';
import { GENEROUS_RATE_LIMITS } from '../e2e/harness.js';

const settings = loadSettings(
  {
    conversations: setting({ env: 'BENCH_CONVERSATIONS', doc: 'conversations, each with both participants subscribed', schema: positiveIntSchema, fallback: '500' }),
    rate: setting({ env: 'BENCH_RATE', doc: 'messages sent per second', schema: positiveIntSchema, fallback: '50' }),
    duration: setting({ env: 'BENCH_DURATION_SECONDS', doc: 'seconds of sending', schema: positiveIntSchema, fallback: '20' }),
    databaseUrl: setting({ env: 'DATABASE_URL', doc: 'PostgreSQL superuser URL (default: an embedded server made for the run)', schema: z.string().optional() }),
  },
  process.argv.slice(2),
  process.env,
  'Fixup chat benchmark',
);
const say = (text: string) => process.stdout.write(text + '\n');

/** BenchSocket is a client socket without per-message compression, as a lean chat client would open. */
class BenchSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { perMessageDeflate: false });
  }
}
const dataDir = mkdtempSync(join(tmpdir(), 'fixup-bench-chat-'));
chmodSync(dataDir, 0o755);

let stack: Stack | undefined;
const clients: Client[] = [];
try {
  say('Starting Fixup for the chat benchmark…');
  stack = await startStack({
    dataDir,
    adminUrl: settings.databaseUrl,
    postgresPort: await freePort(),
    persistent: false,
    prefix: `benchchat${randomBytes(3).toString('hex')}`,
    ports: {},
    env: { ...GENEROUS_RATE_LIMITS, LOG_LEVEL: 'warn', CATALOG_SEED_DEMO: 'false', CHAT_DB_POOL_SIZE: '20' },
  });
  const db = (name: string) => stack!.grants.find((g) => g.database.endsWith(`_${name}`))!.database;
  const n = settings.conversations;
  say(`Making ${n} conversations (${2 * n} users)…`);
  const customers = Array.from({ length: n }, () => randomUUID());
  const providers = Array.from({ length: n }, () => randomUUID());
  await sql(stack.adminUrl, db('user'), `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@bench.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`, [customers, 'CUSTOMER']);
  await sql(stack.adminUrl, db('user'), `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@bench.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`, [providers, 'PROVIDER']);
  const orders = customers.map(() => randomUUID());
  await sql(stack.adminUrl, db('order'), `INSERT INTO orders (id, customer_id, service_id, description) SELECT o, c, gen_random_uuid(), 'Bench order' FROM unnest($1::uuid[], $2::uuid[]) AS x(o, c)`, [orders, customers]);
  const conversations = orders.map(() => randomUUID());
  await sql(stack.adminUrl, db('chat'), `INSERT INTO conversations (id, order_id, customer_id, provider_id) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[])`, [conversations, orders, customers, providers]);

  // Load generation signs access tokens with the development key instead of hashing a password per user.
  const key = (JSON.parse(readFileSync(join(dataDir, 'keys', 'user-jwt.jwks.json'), 'utf8')) as { keys: JWK[] }).keys[0]!;
  const signingKey = await importJWK(key, 'EdDSA');
  const token = (id: string, role: string) =>
    new SignJWT({ roles: [role], ver: 0 }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid! }).setIssuer('fixup-user').setAudience('fixup').setSubject(id).setIssuedAt().setJti(randomUUID()).setExpirationTime('1h').sign(signingKey);

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  let errors = 0;
  let firstError = '';
  const warmed = new Set<number>();
  const wsUrl = stack.endpoint.replace(/^http/, 'ws');
  say(`Opening ${2 * n} subscriptions through the gateway…`);
  const opened = Date.now();
  let ready = 0;
  for (let i = 0; i < n; i++) {
    for (const [side, [id, role]] of ([[customers[i]!, 'CUSTOMER'], [providers[i]!, 'PROVIDER']] as const).entries()) {
      const subscriber = i * 2 + side;
      const jwt = await token(id, role);
      const client = createClient({ url: wsUrl, webSocketImpl: BenchSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${jwt}` } });
      clients.push(client);
      client.subscribe<{ messageAdded: { id: string; body: string } }>(
        { query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { id body sentAt sender { id displayName } conversation { id order { id status } } } }', variables: { c: conversations[i] } },
        {
          next: (v) => {
            if (!v.data) {
              errors++;
              firstError ||= JSON.stringify(v.errors).slice(0, 300);
              return;
            }
            if (v.data.messageAdded.body.startsWith('warm-up')) {
              warmed.add(subscriber);
              return;
            }
            const at = sentAt.get(v.data.messageAdded.id);
            received++;
            if (at !== undefined) latencies.push(Math.max(0, performance.now() - at));
          },
          error: (err) => say(`subscription error: ${JSON.stringify(err).slice(0, 200)}`),
          complete: () => {},
        },
      );
      ready++;
    }
  }
  const tokens = await Promise.all(customers.map((c) => token(c, 'CUSTOMER')));
  const sendTo = (i: number, body: string) =>
    fetch(stack!.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
      body: JSON.stringify({ query: 'mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }', variables: { c: conversations[i], b: body } }),
    }).then((r) => r.json() as Promise<{ data?: { sendMessage: { id: string } } }>);
  // Warm-up: one message per conversation, until every subscriber has had one, so that every subscription is live.
  for (let round = 0; warmed.size < 2 * n && round < 30; round++) {
    const missing = [...Array(n).keys()].filter((i) => !warmed.has(i * 2) || !warmed.has(i * 2 + 1));
    for (let k = 0; k < missing.length; k += 50) await Promise.all(missing.slice(k, k + 50).map((i) => sendTo(i, `warm-up ${round}`)));
    await new Promise((r) => setTimeout(r, 1000));
  }
  say(`  ${ready} subscriptions live (${warmed.size} confirmed) in ${((Date.now() - opened) / 1000).toFixed(1)} s; ${await memory(stack, ['gateway', 'chat'])}`);

  say(`Sending ${settings.rate} messages/s for ${settings.duration} s…`);
  const processes: MeasuredProcess[] = [
    ...stack.services.map((s) => ({ name: s.name, pid: s.pid })),
    ...(stack.postgresPid ? [{ name: 'postgres', pid: stack.postgresPid, tree: true }] : []),
  ];
  const cpu = new CpuMeter(processes);
  cpu.begin();
  let sent = 0;
  let failed = 0;
  const interval = 1000 / settings.rate;
  const stopAt = Date.now() + settings.duration * 1000;
  const inFlight: Promise<void>[] = [];
  while (Date.now() < stopAt) {
    const i = Math.floor(Math.random() * n);
    inFlight.push(
      sendTo(i, `message ${sent}`).then((body) => {
          if (body.data) sentAt.set(body.data.sendMessage.id, performance.now());
          else failed++;
        }),
    );
    sent++;
    await new Promise((r) => setTimeout(r, interval));
  }
  await Promise.all(inFlight);
  await new Promise((r) => setTimeout(r, 3000));
  const reading = cpu.end();
  const expected = (sent - failed) * 2;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1) : '-');
  say(`sent ${sent} (${failed} failed); deliveries expected ${expected}, received ${received}, lost ${expected - received}; error events ${errors}${firstError ? ` (first: ${firstError})` : ''}`);
  say(`delivery latency after sendMessage returned: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.length ? latencies[latencies.length - 1]!.toFixed(1) : '-'} ms`);
  say(`${describeCpu(reading, sent).replace('CPU per request', 'CPU per message sent (with its two deliveries and the idle cost of the open sockets)')}`);
  say(`memory: ${await memory(stack, ['gateway', 'chat'])}; resident: ${describeMemory(processes)}`);
} finally {
  for (const c of clients) await c.dispose();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
