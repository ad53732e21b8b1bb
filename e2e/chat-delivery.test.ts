import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { devAccessTokens, metricSample, startTestStack, type AccessTokenSigner, type TestStack } from './harness.js';

const FOLLOW =
  'subscription Batched($c: ID!) { messageAdded(conversationId: $c) { id body sender { id displayName } conversation { id order { id status } } } }';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Delivery {
  id: string;
  body: string;
  sender: { id: string; displayName: string };
  conversation: { id: string; order: { id: string; status: string } | null };
}

/**
 * fetchesOf counts the follow-up fetches of the Batched subscription a subgraph has answered, from its own /metrics.
 */
async function fetchesOf(t: TestStack, subgraph: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', t.stack.adminOf(subgraph)))).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('fixup_graphql_operation_duration_seconds_count{') &&
        l.includes(`operation="Batched__${subgraph}__`),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** slowConsumerCloses reads how many sockets the gateway has closed with 4008. */
function slowConsumerCloses(t: TestStack): Promise<number> {
  return metricSample(t, 'gateway', 'fixup_gateway_slow_consumer_closes_total');
}

describe('chat delivery: shared follow-up fetches, resuming before the first event, slow readers', () => {
  let t: TestStack;
  const n = 10;
  const provider = randomUUID();
  const customers = Array.from({ length: n }, () => randomUUID());
  const orders = customers.map(() => randomUUID());
  const conversations = customers.map(() => randomUUID());
  const clients: Client[] = [];
  /** signFor makes an access token as the user subgraph would, with its development key. */
  let signFor: AccessTokenSigner;

  /** connect opens a client's socket to the gateway as that user, closed after the tests. */
  const connect = async (
    id: string,
    role: string,
    on: { closed?: (code: number) => void; opened?: (socket: WebSocket) => void } = {},
  ): Promise<Client> => {
    const client = createClient({
      url: t.stack.endpoint.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${await signFor(id, role)}` },
      on: {
        closed: (e) => on.closed?.((e as { code: number }).code),
        opened: (socket) => on.opened?.(socket as WebSocket),
      },
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    // A wide window, so that the test does not depend on how fast this machine is: the events of one commit fall into
    // it.
    // Fetches are counted here: the gateway keeps no senders' names (gateway/entity-cache.ts) and no caller's order
    // status (gateway/caller-entity-cache.ts), or the warm-up's would answer every later event without a fetch.
    t = await startTestStack({
      LOG_LEVEL: 'warn',
      GATEWAY_SUBSCRIPTIONS_BATCH_MS: '1000',
      GATEWAY_ENTITY_CACHE_MAX_ENTRIES: '0',
      GATEWAY_CALLER_CACHE_MAX_ENTRIES: '0',
    });
    signFor = await devAccessTokens(t.dataDir);
    const users = `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@batching.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`;
    await t.sql('user', users, [customers, 'CUSTOMER']);
    await t.sql('user', users, [[provider], 'PROVIDER']);
    await t.sql(
      'order',
      `INSERT INTO orders (id, customer_id, service_id, description) SELECT o, c, gen_random_uuid(), 'Batching order' FROM unnest($1::uuid[], $2::uuid[]) AS x(o, c)`,
      [orders, customers],
    );
    await t.sql(
      'chat',
      `INSERT INTO conversations (id, order_id, customer_id, provider_id) SELECT c, o, u, $4 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS x(c, o, u)`,
      [conversations, orders, customers, provider],
    );
  });
  after(async () => {
    for (const c of clients) await c.dispose();
    await t?.stop();
  });

  it('N events within the window cost one _entities fetch for shared fields, and per caller for the rest', async () => {
    const received = new Map<string, Delivery[]>();
    const errors: unknown[] = [];
    const follow = (client: Client, who: string, conversation: string) => {
      client.subscribe<{ messageAdded: Delivery }>(
        { query: FOLLOW, variables: { c: conversation } },
        {
          next: (v) =>
            v.data ? received.set(who, [...(received.get(who) ?? []), v.data.messageAdded]) : errors.push(v.errors),
          error: (err) => errors.push(err),
          complete: () => {},
        },
      );
    };
    // The provider follows all n conversations over one socket; each customer follows their own.
    const providerClient = await connect(provider, 'PROVIDER');
    for (const c of conversations) follow(providerClient, provider, c);
    for (const [i, customer] of customers.entries())
      follow(await connect(customer, 'CUSTOMER'), customer, conversations[i]!);
    const total = () => [...received.values()].reduce((sum, list) => sum + list.length, 0);
    const insert = (body: string) =>
      t.sql(
        'chat',
        `WITH m AS (
           INSERT INTO messages (id, conversation_id, position, sender_id, body)
           SELECT gen_random_uuid(), c.id, c.last_position + 1, c.customer_id, $2 FROM conversations c WHERE c.id = ANY($1::uuid[])
           RETURNING conversation_id, position)
         UPDATE conversations SET last_position = m.position FROM m WHERE conversations.id = m.conversation_id`,
        [conversations, body],
      );
    // Warm-up until every subscription is live (each one message per round, committed together).
    for (let round = 0; total() < 2 * n && round < 30; round++) {
      received.clear();
      await insert(`warm-up ${round}`);
      await sleep(2500);
    }
    assert.equal(total(), 2 * n, `every subscription live (errors: ${JSON.stringify(errors).slice(0, 300)})`);
    await sleep(1500);
    received.clear();
    const before = { user: await fetchesOf(t, 'user'), order: await fetchesOf(t, 'order') };

    // n messages (one per conversation, each from its customer) committed at once: their events arrive within the
    // window.
    await insert('batched');
    const deadline = Date.now() + 20_000;
    while (total() < 2 * n && Date.now() < deadline) await sleep(100);
    await sleep(1500);
    assert.deepEqual(errors, []);
    assert.equal(received.get(provider)?.length, n, 'the provider received each message');
    const fetched = {
      user: (await fetchesOf(t, 'user')) - before.user,
      order: (await fetchesOf(t, 'order')) - before.order,
    };
    // The senders' names are the same for every caller (contracts/shared-entities.ts): one user fetch for all 2n
    // deliveries. The order's status is not: the provider's n events share one order fetch, and the n customers are n
    // other callers, one fetch each.
    assert.deepEqual(fetched, { user: 1, order: 1 + n });

    // Each event got its own slice of the shared answer, with its caller's rights.
    for (const [i, customer] of customers.entries()) {
      const mine = received.get(customer)!;
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.sender.id, customer);
      assert.equal(mine[0]!.sender.displayName, `User ${customer.slice(0, 8)}`);
      assert.deepEqual(mine[0]!.conversation.order, { id: orders[i], status: 'OPEN' });
    }
    for (const delivery of received.get(provider)!) {
      const i = (conversations as string[]).indexOf(delivery.conversation.id);
      assert.equal(delivery.sender.id, customers[i], 'the sender of that conversation');
      assert.equal(delivery.sender.displayName, `User ${customers[i]!.slice(0, 8)}`);
      // The provider has not the order's skill: order hides it from them, even in a batch.
      assert.equal(delivery.conversation.order, null);
    }
  });

  it('a subscription resumed before its first event loses nothing committed meanwhile', async () => {
    // Messages sent before the subscription starts (more than CHAT_RESUME_MARGIN_MS before) are not its business.
    await sleep(2500);
    const client = await connect(customers[0]!, 'CUSTOMER');
    const bodies: string[] = [];
    const errors: unknown[] = [];
    client.subscribe<{ messageAdded: Delivery }>(
      { query: FOLLOW, variables: { c: conversations[0] } },
      {
        next: (v) => (v.data ? bodies.push(v.data.messageAdded.body) : errors.push(v.errors)),
        error: (err) => errors.push(err),
        complete: () => {},
      },
    );
    await sleep(3000);
    // Killed before any event: the gateway has no last id to resume after.
    await t.stack.stopService('chat', 'SIGKILL');
    // Committed while no chat instance serves the subscription (as another instance would).
    await t.sql(
      'chat',
      `WITH c AS (UPDATE conversations SET last_position = last_position + 1 WHERE id = $1 RETURNING id, customer_id, last_position)
       INSERT INTO messages (id, conversation_id, position, sender_id, body) SELECT gen_random_uuid(), id, last_position, customer_id, 'while down' FROM c`,
      [conversations[0]],
    );
    await t.stack.startService('chat');
    const deadline = Date.now() + 30_000;
    while (bodies.length < 1 && Date.now() < deadline) await sleep(200);
    const sent = await t.gql(
      'mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }',
      { c: conversations[0], b: 'after' },
      { token: await signFor(customers[0]!, 'CUSTOMER') },
    );
    assert.ok(sent.data?.sendMessage, JSON.stringify(sent.errors));
    while (bodies.length < 2 && Date.now() < deadline) await sleep(200);
    await sleep(500);
    assert.deepEqual(bodies, ['while down', 'after']);
    assert.deepEqual(errors, []);
  });

  it('a reader that stops reading is closed with 4008 once its unsent data passes the bound; the others go on', async () => {
    // A conversation of its own: the earlier tests' subscribers follow the others, and 12 MB at once would be more
    // than their bound too.
    const conversation = randomUUID();
    const order = randomUUID();
    await t.sql(
      'order',
      `INSERT INTO orders (id, customer_id, service_id, description) VALUES ($1, $2, gen_random_uuid(), 'Slow reader')`,
      [order, customers[1]],
    );
    await t.sql('chat', `INSERT INTO conversations (id, order_id, customer_id, provider_id) VALUES ($1, $2, $3, $4)`, [
      conversation,
      order,
      customers[1],
      provider,
    ]);
    const slowCodes: number[] = [];
    let slowSocket: WebSocket | undefined;
    const slow = await connect(provider, 'PROVIDER', {
      closed: (code) => slowCodes.push(code),
      opened: (socket) => (slowSocket = socket),
    });
    const fastCodes: number[] = [];
    const fast = await connect(customers[1]!, 'CUSTOMER', { closed: (code) => fastCodes.push(code) });
    const slowIds: string[] = [];
    const fastIds: string[] = [];
    const follow = (client: Client, query: string, ids: string[]) =>
      client.subscribe<{ messageAdded: { id: string } }>(
        { query, variables: { c: conversation } },
        { next: (v) => v.data && ids.push(v.data.messageAdded.id), error: () => {}, complete: () => {} },
      );
    follow(slow, 'subscription($c: ID!) { messageAdded(conversationId: $c) { id body } }', slowIds);
    follow(fast, 'subscription($c: ID!) { messageAdded(conversationId: $c) { id } }', fastIds);
    const commit = (count: number, size: number) =>
      t.sql(
        'chat',
        `WITH c AS (UPDATE conversations SET last_position = last_position + $2 WHERE id = $1
                    RETURNING id, customer_id, last_position - $2 AS before)
         INSERT INTO messages (id, conversation_id, position, sender_id, body)
         SELECT gen_random_uuid(), c.id, c.before + k, c.customer_id, repeat('x', $3) FROM c, generate_series(1, $2) k`,
        [conversation, count, size],
      );
    for (let round = 0; (slowIds.length === 0 || fastIds.length === 0) && round < 20; round++) {
      await commit(1, 10);
      await sleep(1000);
    }
    assert.ok(slowIds.length > 0 && fastIds.length > 0, 'both subscriptions live');
    const before = await slowConsumerCloses(t);
    // The slow reader stops reading; 3,000 messages of 4,000 characters (12 MB) go to it (the kernel's buffers take a
    // few MB before any unsent data shows), and their ids to the other subscriber.
    (slowSocket as unknown as { _socket: { pause(): void } })._socket.pause();
    const fastBefore = fastIds.length;
    await commit(3000, 4000);
    const deadline = Date.now() + 60_000;
    while ((fastIds.length < fastBefore + 3000 || (await slowConsumerCloses(t)) === before) && Date.now() < deadline)
      await sleep(250);
    assert.equal(fastIds.length, fastBefore + 3000, 'the other subscriber received every message');
    assert.equal((await slowConsumerCloses(t)) - before, 1, 'the gateway closed the slow socket as a slow consumer');
    // Reading again, the slow client finds the close frame after what had been sent: 4008.
    (slowSocket as unknown as { _socket: { resume(): void } })._socket.resume();
    while (slowCodes.length === 0 && Date.now() < deadline) await sleep(100);
    assert.deepEqual(slowCodes, [4008]);
    assert.deepEqual(fastCodes, [], 'the other socket stayed open');
  });
});
