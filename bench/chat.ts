// npm run bench:chat -- [--conversations=500] [--rate=100] [--duration=15] [--slow-readers=4] [--broker=postgres|nats]
// [--batch-ms=3] [--watchers=0] [--send-connections=256]
// The full run of the issue's targets: --conversations=5000 --rate=500 --duration=60 (10,000 subscriptions).
// Opens two graphql-ws clients per conversation (customer and provider)
// through the gateway, confirms each is live, sends messages at a fixed rate,
// and prints: memory per subscription in the gateway and chat (resident with
// the subscriptions minus at rest, over their number), messages lost and
// duplicated (both must be 0), delivery latency from sendMessage returning to
// receipt (p50, p99, max), CPU milliseconds per delivered message summed over
// every server process (gateway, subgraphs, PostgreSQL), and what became of a
// few deliberately slow readers.
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { createClient, type Client } from 'graphql-ws';
import { Agent } from 'undici';
import WebSocket from 'ws';
import { z } from 'zod';
import { loadSettings, positiveIntSchema, setting } from '../foundation/service/config.js';
import { adminQuery as sql } from '../foundation/postgres/admin.js';
import type { Stack } from '../scripts/stack.js';
import { CpuMeter, describeCpu, percentile, type MeasuredProcess } from './process-stats.js';
import { metricSum, metricValue } from './readings.js';
import { benchStackSettings, startBenchStack, type BenchStack } from './bench-stack.js';
import { devAccessTokens, GENEROUS_RATE_LIMITS } from '../e2e/harness.js';

const settings = loadSettings(
  {
    conversations: setting({
      env: 'BENCH_CONVERSATIONS',
      doc: 'conversations, each with both participants subscribed (the full run: 5000)',
      schema: positiveIntSchema,
      fallback: '500',
    }),
    rate: setting({
      env: 'BENCH_RATE',
      doc: 'messages sent per second (the full run: 500)',
      schema: positiveIntSchema,
      fallback: '100',
    }),
    duration: setting({
      env: 'BENCH_DURATION_SECONDS',
      doc: 'seconds of sending (the full run: 60)',
      schema: positiveIntSchema,
      fallback: '15',
    }),
    slowReaders: setting({
      env: 'BENCH_SLOW_READERS',
      doc: 'extra subscribers that stop reading their socket, on conversations that get large messages',
      schema: z.coerce.number().int().min(0),
      fallback: '4',
    }),
    broker: setting({
      env: 'BENCH_BROKER',
      doc: 'fan-out between chat processes: postgres (LISTEN/NOTIFY) or nats (JetStream at NATS_URL)',
      schema: z.enum(['postgres', 'nats']),
      fallback: 'postgres',
    }),
    natsUrl: setting({
      env: 'NATS_URL',
      doc: 'the NATS server for --broker=nats',
      schema: z.string(),
      fallback: 'nats://127.0.0.1:4222',
    }),
    batchMs: setting({
      env: 'BENCH_BATCH_MS',
      doc: "the gateway's GATEWAY_SUBSCRIPTIONS_BATCH_MS (0: follow-up fetches not batched)",
      schema: z.coerce.number().int().min(0),
      fallback: '3',
    }),
    watchers: setting({
      env: 'BENCH_WATCHERS',
      doc: 'admins who each follow every conversation (one caller with many subscriptions, whose events batching can merge)',
      schema: z.coerce.number().int().min(0),
      fallback: '0',
    }),
    sendConnections: setting({
      env: 'BENCH_SEND_CONNECTIONS',
      doc: "HTTP connections the senders share (undici's pool; each carries one request at a time)",
      schema: positiveIntSchema,
      fallback: '256',
    }),
    nodeArgs: benchStackSettings.nodeArgs,
    databaseUrl: setting({
      env: 'DATABASE_URL',
      doc: 'PostgreSQL superuser URL (default: an embedded server made for the run, whose CPU is then counted too)',
      schema: z.string().optional(),
    }),
  },
  process.argv.slice(2),
  process.env,
  'Fixup chat benchmark',
);
const say = (text: string) => process.stdout.write(text + '\n');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** BenchSocket is a client socket without per-message compression, as a lean chat client would open. */
class BenchSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { perMessageDeflate: false });
  }
}

const resident = async (stack: Stack, name: string) =>
  (await metricValue(stack.adminOf(name), 'process_resident_memory_bytes')) / 1024;
/**
 * heapUsed is a process's used JavaScript heap in KB: live objects and garbage not collected yet (no collection is
 * forced); what resident memory holds beyond it is the heap's free room and memory outside it.
 */
const heapUsed = async (stack: Stack, name: string) =>
  (await metricSum(stack.adminOf(name), 'nodejs_heap_size_used_bytes')) / 1024;

let stack: BenchStack | undefined;
const clients: Client[] = [];
try {
  say(`Starting Fixup for the chat benchmark (broker: ${settings.broker})…`);
  stack = await startBenchStack({
    name: 'benchchat',
    databaseUrl: settings.databaseUrl,
    nodeArgs: settings.nodeArgs.split(' ').filter(Boolean),
    // Production settings, as issue 14's and 17's targets say: NODE_ENV=production in every process.
    production: true,
    env: {
      ...GENEROUS_RATE_LIMITS,
      LOG_LEVEL: 'warn',
      CATALOG_SEED_DEMO: 'false',
      CHAT_DB_POOL_SIZE: '20',
      CHAT_BROKER: settings.broker,
      CHAT_NATS_URL: settings.natsUrl,
      CHAT_NATS_STREAM: `fixup_bench_${randomBytes(3).toString('hex')}`,
      // A slow reader is closed once this many events wait for it (the default is 1000; the run is short).
      GATEWAY_WS_MAX_QUEUED_EVENTS: '100',
      GATEWAY_SUBSCRIPTIONS_BATCH_MS: String(settings.batchMs),
      // A watcher follows every conversation over as few sockets as this allows.
      GATEWAY_WS_SUBSCRIPTIONS_PER_SOCKET: '1000',
    },
  });
  const db = (name: string) => stack!.grants.find((g) => g.database.endsWith(`_${name}`))!.database;
  const n = settings.conversations;
  const slowCount = settings.slowReaders;
  say(`Making ${n} conversations (${2 * n} users)…`);
  const customers = Array.from({ length: n }, () => randomUUID());
  const providers = Array.from({ length: n }, () => randomUUID());
  await sql(
    stack.adminUrl,
    db('user'),
    `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@bench.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`,
    [customers, 'CUSTOMER'],
  );
  await sql(
    stack.adminUrl,
    db('user'),
    `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@bench.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`,
    [providers, 'PROVIDER'],
  );
  // Each conversation is about an order its provider may see, as the contract's rule allows a conversation: half
  // before acceptance (an OPEN order for a service among the provider's skills, with the provider's pending offer),
  // half after (the provider's offer accepted). Each delivery's `conversation.order` then answers as in use, with no
  // error, and costs what it costs in use (a skills look-up in catalog, or the accepted offer's read).
  const categoryId = randomUUID();
  const serviceId = randomUUID();
  await sql(stack.adminUrl, db('catalog'), `INSERT INTO categories (id, name) VALUES ($1, 'Bench')`, [categoryId]);
  await sql(
    stack.adminUrl,
    db('catalog'),
    `INSERT INTO services (id, category_id, name, description) VALUES ($1, $2, 'Bench service', 'Bench')`,
    [serviceId, categoryId],
  );
  await sql(
    stack.adminUrl,
    db('catalog'),
    `INSERT INTO skills (provider_id, service_id) SELECT p, $2 FROM unnest($1::uuid[]) p`,
    [providers, serviceId],
  );
  const orders = customers.map(() => randomUUID());
  const offers = customers.map(() => randomUUID());
  await sql(
    stack.adminUrl,
    db('order'),
    `INSERT INTO orders (id, customer_id, service_id, description) SELECT o, c, $3, 'Bench order' FROM unnest($1::uuid[], $2::uuid[]) AS x(o, c)`,
    [orders, customers, serviceId],
  );
  await sql(
    stack.adminUrl,
    db('order'),
    `INSERT INTO offers (id, order_id, provider_id, price_cents, currency, status)
     SELECT f, o, p, 10000, 'EUR', CASE WHEN i % 2 = 0 THEN 'ACCEPTED' ELSE 'PENDING' END
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) WITH ORDINALITY AS x(f, o, p, i)`,
    [offers, orders, providers],
  );
  await sql(
    stack.adminUrl,
    db('order'),
    `UPDATE orders o SET status = 'ACCEPTED', accepted_offer_id = f.id FROM offers f WHERE f.order_id = o.id AND f.status = 'ACCEPTED'`,
    [],
  );
  const conversations = orders.map(() => randomUUID());
  await sql(
    stack.adminUrl,
    db('chat'),
    `INSERT INTO conversations (id, order_id, customer_id, provider_id) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[])`,
    [conversations, orders, customers, providers],
  );

  // Load generation signs access tokens with the development key instead of hashing a password per user.
  const sign = await devAccessTokens(stack.dataDir);
  const token = (id: string, role: string) => sign(id, role, 2 * 3600);

  const wsUrl = stack.endpoint.replace(/^http/, 'ws');
  const query =
    'subscription($c: ID!) { messageAdded(conversationId: $c) { id body sentAt sender { id displayName } conversation { id order { id status } } } }';
  const sentAt = new Map<string, number>();
  const seen: Set<string>[] = [];
  const latencies: number[] = [];
  let received = 0;
  let duplicated = 0;
  let errors = 0;
  let firstError = '';
  let partial = 0;
  let firstPartial = '';
  const warmed = new Set<number>();
  // A socket's end arrives as a CloseEvent (code and reason) and its failure as an ErrorEvent (type and message), which
  // JSON shows as {}.
  const describeError = (err: unknown) =>
    err && typeof err === 'object' && 'code' in err
      ? `socket closed ${(err as { code: number }).code} ${(err as { reason?: string }).reason ?? ''}`.trim()
      : err instanceof Error
        ? err.message
        : err && typeof err === 'object' && 'type' in err
          ? `socket ${String((err as { type: unknown }).type)}: ${String((err as { message?: unknown }).message ?? '')}`
          : JSON.stringify(err).slice(0, 300);
  const connect = (jwt: string, onClosed?: (code: number) => void, onOpen?: (socket: WebSocket) => void) => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: BenchSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${jwt}` },
      on: { closed: (e) => onClosed?.((e as { code: number }).code), opened: (s) => onOpen?.(s as WebSocket) },
    });
    clients.push(client);
    return client;
  };
  let retriedAtStart = 0;
  const subscribe = (
    id: string,
    role: string,
    conversation: string,
    onClosed?: (code: number) => void,
    onOpen?: (socket: WebSocket) => void,
    shared?: Client,
    slow = false,
  ) =>
    (shared ? Promise.resolve('') : token(id, role)).then((jwt) => {
      const subscriber = seen.length;
      seen.push(new Set());
      const client = shared ?? connect(jwt, onClosed, onOpen);
      let failedAtStart = false;
      const start = () =>
        client.subscribe<{ messageAdded: { id: string; body: string } }>(
          { query, variables: { c: conversation } },
          {
            next: (v) => {
              if (!v.data) {
                // Refused before its first event (chat overloaded while thousands subscribe at once): subscribed again,
                // as a client would.
                if (!warmed.has(subscriber) && !slow) {
                  failedAtStart = true;
                  return;
                }
                errors++;
                firstError ||= JSON.stringify(v.errors).slice(0, 300);
                return;
              }
              const { id, body } = v.data.messageAdded;
              if (body.startsWith('warm-up')) return void warmed.add(subscriber);
              if (seen[subscriber]!.has(id)) return void duplicated++;
              seen[subscriber]!.add(id);
              received++;
              // A received delivery whose follow-up fields failed (the sender, the order) is counted apart too.
              if (v.errors?.length) {
                partial++;
                firstPartial ||= JSON.stringify(v.errors).slice(0, 300);
              }
              const at = sentAt.get(id);
              if (at !== undefined) latencies.push(Math.max(0, performance.now() - at));
            },
            error: (err) => {
              // A slow reader's socket ending is what it is there for: counted with the slow readers, not here.
              if (slow) return;
              errors++;
              firstError ||= describeError(err);
            },
            complete: () => {
              if (!failedAtStart) return;
              failedAtStart = false;
              retriedAtStart++;
              setTimeout(start, 1000);
            },
          },
        );
      start();
      return subscriber;
    });

  const processes: MeasuredProcess[] = [
    ...stack.services.map((s) => ({ name: s.name, pid: s.pid })),
    ...(stack.postgresPid ? [{ name: 'postgres', pid: stack.postgresPid, tree: true }] : []),
  ];
  const cpuMeter = new CpuMeter(processes);
  await sleep(2000);
  const rest = { gateway: await resident(stack, 'gateway'), chat: await resident(stack, 'chat') };
  const restHeap = { gateway: await heapUsed(stack, 'gateway'), chat: await heapUsed(stack, 'chat') };
  say(`At rest: gateway ${(rest.gateway / 1024).toFixed(0)} MB, chat ${(rest.chat / 1024).toFixed(0)} MB resident.`);
  say(`Opening ${2 * n} subscriptions through the gateway…`);
  const opened = Date.now();
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, k) => i + k).flatMap((c) => [
        subscribe(customers[c]!, 'CUSTOMER', conversations[c]!),
        subscribe(providers[c]!, 'PROVIDER', conversations[c]!),
      ]),
    );
  }
  const tokens = await Promise.all(customers.map((c) => token(c, 'CUSTOMER')));
  type Sent = {
    data?: { sendMessage: { id: string } };
    errors?: { message?: string; extensions?: { code?: string } }[];
  };
  // The senders share a bounded pool of keep-alive connections, as a fleet of browsers behind a few proxies would:
  // undici's default opens one per request in flight without bound, and on a lagging server runs the client (and the
  // gateway) out of file descriptors next to 10,000 sockets. They send with undici's request, not fetch: the same bytes
  // on the wire, for about half the client's CPU per send (the load generator shares the machine with the servers).
  const senders = new Agent({ connections: settings.sendConnections, keepAliveTimeout: 60_000 });
  const endpoint = new URL(stack.endpoint);
  const sendTo = (i: number, body: string) =>
    senders
      .request({
        origin: endpoint.origin,
        path: endpoint.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
        body: JSON.stringify({
          query: 'mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }',
          variables: { c: conversations[i], b: body },
        }),
      })
      .then(async (r) => {
        const text = await r.body.text();
        try {
          return JSON.parse(text) as Sent;
        } catch {
          return {
            errors: [{ extensions: { code: `HTTP ${r.statusCode} ${text.slice(0, 60) || '(empty body)'}` } }],
          } as Sent;
        }
      })
      .catch((err: Error & { cause?: { code?: string; message?: string } }) => {
        const why = err.cause?.code ?? err.cause?.message ?? err.message;
        return { errors: [{ extensions: { code: `client: ${why}` } }] } as Sent;
      });
  // Warm-up: one message per conversation, until every subscriber has had one, so that every subscription is live.
  for (let round = 0; warmed.size < 2 * n && round < 30; round++) {
    const missing = [...Array(n).keys()].filter((i) => !warmed.has(i * 2) || !warmed.has(i * 2 + 1));
    for (let k = 0; k < missing.length; k += 50)
      await Promise.all(missing.slice(k, k + 50).map((i) => sendTo(i, `warm-up ${round}`)));
    await sleep(1000);
  }
  await sleep(2000);
  const live = { gateway: await resident(stack, 'gateway'), chat: await resident(stack, 'chat') };
  const liveHeap = { gateway: await heapUsed(stack, 'gateway'), chat: await heapUsed(stack, 'chat') };
  const perSubscription = (name: 'gateway' | 'chat') => ((live[name] - rest[name]) / (2 * n)).toFixed(1);
  const heapPerSubscription = (name: 'gateway' | 'chat') => ((liveHeap[name] - restHeap[name]) / (2 * n)).toFixed(1);
  say(`  ${2 * n} subscriptions live (${warmed.size} confirmed) in ${((Date.now() - opened) / 1000).toFixed(1)} s`);
  say(
    `  memory per subscription: gateway ${perSubscription('gateway')} KB (${(live.gateway / 1024).toFixed(0)} MB resident), chat ${perSubscription('chat')} KB (${(live.chat / 1024).toFixed(0)} MB resident); of it used heap: gateway ${heapPerSubscription('gateway')} KB, chat ${heapPerSubscription('chat')} KB`,
  );

  // Watchers are admins who each follow every conversation over a few sockets: one caller whose events batching can
  // merge.
  const watchers = settings.watchers;
  if (watchers > 0) {
    const admins = Array.from({ length: watchers }, () => randomUUID());
    await sql(
      stack.adminUrl,
      db('user'),
      `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@bench.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`,
      [admins, 'ADMIN'],
    );
    const watcherSubscribers: number[] = [];
    for (const admin of admins) {
      const jwt = await token(admin, 'ADMIN');
      for (let c = 0; c < n; c += 1000) {
        const client = connect(jwt);
        for (let k = c; k < Math.min(n, c + 1000); k++)
          watcherSubscribers.push(await subscribe(admin, 'ADMIN', conversations[k]!, undefined, undefined, client));
      }
    }
    for (let round = 0; watcherSubscribers.some((s) => !warmed.has(s)) && round < 30; round++) {
      const missing = [...Array(n).keys()].filter((i) =>
        admins.some((_, a) => !warmed.has(watcherSubscribers[a * n + i]!)),
      );
      for (let k = 0; k < missing.length; k += 50)
        await Promise.all(missing.slice(k, k + 50).map((i) => sendTo(i, `warm-up watchers ${round}`)));
      await sleep(1000);
    }
    say(
      `  ${watchers} watcher(s) follow every conversation (${watcherSubscribers.filter((s) => warmed.has(s)).length} of ${watchers * n} confirmed)`,
    );
  }

  // Slow readers follow the first few conversations and stop reading their socket; those conversations also get large
  // messages.
  const slowClosed: number[] = [];
  const slowSockets: WebSocket[] = [];
  for (let i = 0; i < slowCount; i++) {
    await subscribe(
      customers[i % n]!,
      'CUSTOMER',
      conversations[i % n]!,
      (code) => slowClosed.push(code),
      (socket) => slowSockets.push(socket),
      undefined,
      true,
    );
  }
  await sleep(1000);
  for (const socket of slowSockets) (socket as unknown as { _socket: { pause(): void } })._socket.pause();
  const slowSubscribers = new Set(Array.from({ length: slowCount }, (_, i) => 2 * n + watchers * n + i));

  say(`Sending ${settings.rate} messages/s for ${settings.duration} s…`);
  let sent = 0;
  let failed = 0;
  // Why sends failed, by the error's code (or the client's own failure).
  const failures = new Map<string, number>();
  const inFlight: Promise<void>[] = [];
  // The follow-up fetches (sender from user, order status from order) are the anonymous operations those subgraphs
  // answer.
  const fetches = () =>
    Promise.all(
      ['user', 'order'].map((name) =>
        metricValue(
          stack!.services.find((s) => s.name === name)!.admin,
          'fixup_graphql_operation_duration_seconds_count',
          'operation="anonymous",outcome="ok"',
        ),
      ),
    );
  const fetchesStart = await fetches();
  // Chat's SQL statements (every one is timed) while sending: what a message costs chat in round trips.
  const chatStatements = () =>
    metricSum(stack!.services.find((s) => s.name === 'chat')!.admin, 'fixup_db_statement_duration_seconds_count');
  const statementsStart = await chatStatements();
  cpuMeter.begin();
  const loadGenerator = process.cpuUsage();
  const started = performance.now();
  const big = 'x'.repeat(3900);
  while (performance.now() - started < settings.duration * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * settings.rate);
    for (; sent < due; sent++) {
      const toSlow = slowCount > 0 && sent % 10 === 0;
      const i = toSlow ? sent % Math.min(slowCount, n) : Math.floor(Math.random() * n);
      const m = sent;
      inFlight.push(
        sendTo(i, toSlow ? `message ${m} ${big}` : `message ${m}`).then((body) => {
          if (body.data) sentAt.set(body.data.sendMessage.id, performance.now());
          else {
            failed++;
            const first = body.errors?.[0];
            const code = `${first?.extensions?.code ?? 'no data'}${first?.message ? ` (${first.message.slice(0, 60)})` : ''}`;
            failures.set(code, (failures.get(code) ?? 0) + 1);
          }
        }),
      );
    }
    await sleep(2);
  }
  await Promise.all(inFlight);
  await senders.close();
  const deadline = Date.now() + 15_000;
  const expected = (sent - failed) * (2 + watchers);
  while (received < expected && Date.now() < deadline) await sleep(200);
  const cpuReading = cpuMeter.end();
  const generatorUsage = process.cpuUsage(loadGenerator);
  const cpuSeconds = (performance.now() - started) / 1000;
  const fetchesEnd = await fetches();
  const statementsEnd = await chatStatements();
  await sleep(500);
  const slowClosedCount = slowClosed.filter((c) => c === 4008).length;
  // Deliveries to the slow readers are not expected: they stopped reading and were closed.
  const slowReceived = [...slowSubscribers].reduce((sum, s) => sum + (seen[s]?.size ?? 0), 0);
  const fastReceived = received - slowReceived;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies.length ? percentile(latencies, p).toFixed(1) : '-');
  const cpu = cpuReading.totalMs;
  say('');
  say(
    `machine: ${settings.conversations} conversations, ${2 * n + watchers * n} subscriptions (${watchers} watchers), broker ${settings.broker}, batch ${settings.batchMs} ms; shared 2-core machine (other work ran at the same time), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  say(
    `sent ${sent} in ${settings.duration} s (${failed} failed${failures.size ? `: ${[...failures].map(([code, count]) => `${count} ${code}`).join(', ')}` : ''}); deliveries expected ${expected}, received ${fastReceived}, lost ${Math.max(0, expected - fastReceived)}, duplicated ${duplicated}; error events ${errors}${firstError ? ` (first: ${firstError})` : ''}; received with errors ${partial}${firstPartial ? ` (first: ${firstPartial})` : ''}`,
  );
  say(
    `delivery latency after sendMessage returned: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.length ? latencies[latencies.length - 1]!.toFixed(1) : '-'} ms`,
  );
  say(
    `CPU over every server process: ${cpu.toFixed(0)} ms in ${cpuSeconds.toFixed(1)} s, ${(cpu / Math.max(1, fastReceived)).toFixed(2)} ms per delivered message${settings.databaseUrl ? ' (PostgreSQL at DATABASE_URL not counted)' : ''}`,
  );
  say(`  per delivered message, ${describeCpu(cpuReading, fastReceived).replace('CPU per request ', '')}`);
  // The load generator (this process: the clients' sockets and sends) shares the machine's cores and is not counted
  // above; a generator that needs most of a core leaves the servers less.
  say(
    `load generator (not counted above): ${((generatorUsage.user + generatorUsage.system) / 1000).toFixed(0)} ms of CPU in the same time`,
  );
  say(
    `follow-up fetches while sending: user ${fetchesEnd[0]! - fetchesStart[0]!}, order ${fetchesEnd[1]! - fetchesStart[1]!} (${((fetchesEnd[0]! - fetchesStart[0]! + fetchesEnd[1]! - fetchesStart[1]!) / Math.max(1, fastReceived)).toFixed(2)} per delivered message)`,
  );
  say(
    `chat's SQL statements while sending: ${((statementsEnd - statementsStart) / Math.max(1, sent)).toFixed(2)} per message`,
  );
  say(
    `slow readers: ${slowCount}, closed with 4008: ${slowClosedCount}${slowClosed.length > slowClosedCount ? ` (all close codes: ${slowClosed.join(', ')})` : ''}; subscriptions refused at their start (chat overloaded) and made again: ${retriedAtStart}`,
  );
  say(`memory per subscription: gateway ${perSubscription('gateway')} KB, chat ${perSubscription('chat')} KB`);
} finally {
  await Promise.all(clients.map((c) => c.dispose()));
  await stack?.stop();
}
