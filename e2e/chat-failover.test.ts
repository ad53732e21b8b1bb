import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { GATEWAY_TOKEN_HEADER, signGatewayToken } from '../foundation/auth/identity.js';
import { TokenSigner } from '../foundation/auth/tokens.js';
import { devAccessTokens, startTestStack, type TestStack } from './harness.js';

const FOLLOW =
  'subscription MessageAdded($conversationId: ID!, $after: ID) { messageAdded(conversationId: $conversationId, after: $after) { id body sender { id displayName } } }';
const SEND =
  'mutation SendMessage($conversationId: ID!, $body: String!) { sendMessage(conversationId: $conversationId, body: $body) { id } }';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Reader is one chat client: a graphql-ws client through the gateway that records every message it receives. */
class Reader {
  readonly received: { id: string; body: string }[] = [];
  readonly errors: unknown[] = [];
  readonly closes: number[] = [];
  readonly client: Client;

  constructor(endpoint: string, token: string, retry: boolean) {
    this.client = createClient({
      url: endpoint.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: retry ? 300 : 0,
      retryWait: async () => sleep(300),
      // graphql-ws retries on close events only by default; a refused connection (the gateway not back yet) is worth
      // retrying too.
      shouldRetry: () => retry,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { closed: (event) => this.closes.push((event as { code: number }).code) },
      // The close is recorded above; graphql-ws would also print it (its default onNonLazyError is console.error).
      onNonLazyError: () => {},
    });
  }

  /**
   * follow subscribes; the variables object is the one graphql-ws sends again
   * on each reconnection, so keeping `after` in it up to date resumes exactly
   * after the last message received.
   */
  follow(conversationId: string): this {
    const variables: { conversationId: string; after?: string } = { conversationId };
    this.client.subscribe<{ messageAdded: { id: string; body: string } }>(
      { query: FOLLOW, variables },
      {
        next: (value) => {
          if (!value.data) return void this.errors.push(value.errors);
          this.received.push(value.data.messageAdded);
          variables.after = value.data.messageAdded.id;
        },
        error: (err) => this.errors.push(err),
        complete: () => {},
      },
    );
    return this;
  }
}

describe('chat failover: two chat instances, and a gateway restart', () => {
  let t: TestStack;
  const n = 100;
  const customers: string[] = [];
  const providers: string[] = [];
  const conversations: string[] = [];
  const tokens = new Map<string, string>();
  const readers: Reader[] = [];

  before(async () => {
    t = await startTestStack({ LOG_LEVEL: 'warn' }, { instances: { chat: 2 } });
    // 200 users, 100 orders and 100 conversations are written directly: the subject here is delivery, not sign-up.
    for (let i = 0; i < n; i++) {
      customers.push(randomUUID());
      providers.push(randomUUID());
      conversations.push(randomUUID());
    }
    const users = `INSERT INTO users (id, email, display_name, roles) SELECT id, id || '@failover.example', 'User ' || left(id::text, 8), ARRAY[$2] FROM unnest($1::uuid[]) id`;
    await t.sql('user', users, [customers, 'CUSTOMER']);
    await t.sql('user', users, [providers, 'PROVIDER']);
    const orders = customers.map(() => randomUUID());
    await t.sql(
      'order',
      `INSERT INTO orders (id, customer_id, service_id, description) SELECT o, c, gen_random_uuid(), 'Failover order' FROM unnest($1::uuid[], $2::uuid[]) AS x(o, c)`,
      [orders, customers],
    );
    await t.sql(
      'chat',
      `INSERT INTO conversations (id, order_id, customer_id, provider_id) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[])`,
      [conversations, orders, customers, providers],
    );
    const sign = await devAccessTokens(t.dataDir);
    for (const [ids, role] of [
      [customers, 'CUSTOMER'],
      [providers, 'PROVIDER'],
    ] as const) {
      for (const id of ids) {
        tokens.set(id, await sign(id, role));
      }
    }
  });
  after(async () => {
    for (const r of readers) await r.client.dispose();
    await t?.stop();
  });

  /**
   * send posts one message through the gateway, retrying as a frontend would when the gateway answers nothing; it gives
   * the id, or null when it failed.
   */
  const send = async (i: number, body: string): Promise<string | null> => {
    const res = await t.gql(SEND, { conversationId: conversations[i], body }, { token: tokens.get(providers[i]!) });
    return res.data?.sendMessage?.id ?? null;
  };

  /** warmUp sends one message per conversation until every reader has one: every subscription is then live. */
  const warmUp = async (list: Reader[]) => {
    for (let round = 0; round < 40; round++) {
      const missing = list.map((r, i) => [r, i] as const).filter(([r]) => r.received.length === 0);
      if (missing.length === 0) return;
      for (let k = 0; k < missing.length; k += 20)
        await Promise.all(missing.slice(k, k + 20).map(([, i]) => send(i, `warm-up ${round}`)));
      await sleep(1000);
    }
    const probe = await t.gql(
      SEND,
      { conversationId: conversations[0], body: 'probe' },
      { token: tokens.get(providers[0]!) },
    );
    throw new Error(
      `subscriptions did not go live: ${list.filter((r) => r.received.length === 0).length} silent; errors ${JSON.stringify(list.flatMap((r) => r.errors).slice(0, 3))}; closes ${JSON.stringify(list.flatMap((r) => r.closes).slice(0, 5))}; a send: ${JSON.stringify(probe.errors ?? probe.data)}`,
    );
  };

  it('killing a chat instance during 1,000 messages across 100 conversations loses and duplicates nothing, and shows no error', async () => {
    for (let i = 0; i < n; i++)
      readers.push(new Reader(t.stack.endpoint, tokens.get(customers[i]!)!, false).follow(conversations[i]!));
    await warmUp(readers);
    const start = readers.map((r) => r.received.length);
    const sent: (string | null)[][] = conversations.map(() => []);
    const total = 1000;
    let killed = false;
    for (let k = 0; k < total; k += 10) {
      if (k === 300) {
        // Killed, not shut down: no close frame, no goodbye.
        await t.stack.stopService('chat', 'SIGKILL');
        killed = true;
      }
      if (k === 700) await t.stack.startService('chat');
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => k + j).map(async (m) => {
          const i = m % n;
          sent[i]!.push(await send(i, `message ${m}`));
        }),
      );
    }
    assert.ok(killed);
    const ok = sent.map((ids) => ids.filter((id): id is string => id !== null));
    const failed = sent.flat().filter((id) => id === null).length;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && readers.some((r, i) => r.received.length - start[i]! < ok[i]!.length))
      await sleep(200);
    let lost = 0;
    let duplicated = 0;
    for (const [i, reader] of readers.entries()) {
      const ids = reader.received.slice(start[i]).map((m) => m.id);
      duplicated += ids.length - new Set(ids).size;
      lost += ok[i]!.filter((id) => !ids.includes(id)).length;
      // Whatever reached the reader came in the order it was committed.
      assert.deepEqual(
        ids.filter((id) => ok[i]!.includes(id)),
        ok[i],
        `conversation ${i} in order`,
      );
    }
    assert.equal(lost, 0, 'lost');
    assert.equal(duplicated, 0, 'duplicated');
    assert.deepEqual(
      readers.flatMap((r) => r.errors),
      [],
      'no client saw an error',
    );
    assert.deepEqual(
      readers.flatMap((r) => r.closes),
      [],
      'no client socket closed',
    );
    assert.ok(failed <= 20, `only sends in flight at the kill may fail (${failed} did)`);
  });

  it('a gateway restart closes sockets with 1012, and a graphql-ws client with retry and after loses nothing', async () => {
    const resumers = Array.from({ length: 10 }, (_, i) =>
      new Reader(t.stack.endpoint, tokens.get(customers[i]!)!, true).follow(conversations[i]!),
    );
    readers.push(...resumers);
    await warmUp(resumers);
    const start = resumers.map((r) => r.received.length);
    const ids: string[][] = resumers.map(() => []);
    for (let i = 0; i < 10; i++) ids[i]!.push((await send(i, 'before the restart'))!);
    assert.equal(await t.stack.stopService('gateway'), 0);
    // While the gateway is down, the provider's messages reach chat another way (as through another gateway).
    const signer = await TokenSigner.create(
      JSON.parse(readFileSync(join(t.dataDir, 'keys', 'gateway-internal.jwks.json'), 'utf8')),
    );
    const chat = t.stack.services.find((s) => s.name === 'chat-2')!.url;
    for (let i = 0; i < 10; i++) {
      const token = await signGatewayToken(
        signer,
        {
          viewer: { id: providers[i]!, roles: ['PROVIDER'], sessionId: null },
          ip: null,
          userAgent: 'test',
          requestId: `restart-${i}`,
        },
        'chat',
      );
      const res = await fetch(chat, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [GATEWAY_TOKEN_HEADER]: token },
        body: JSON.stringify({
          query: SEND,
          variables: { conversationId: conversations[i], body: 'while the gateway was down' },
        }),
      });
      ids[i]!.push(((await res.json()) as { data: { sendMessage: { id: string } } }).data.sendMessage.id);
    }
    await t.stack.startService('gateway');
    for (let i = 0; i < 10; i++) ids[i]!.push((await send(i, 'after the restart'))!);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && resumers.some((r, i) => r.received.length - start[i]! < 3)) await sleep(200);
    for (const [i, r] of resumers.entries()) {
      assert.deepEqual(
        r.received.slice(start[i]).map((m) => m.id),
        ids[i],
        `reader ${i}: each message once, in order`,
      );
      assert.equal(r.closes[0], 1012, 'the restart closed the socket with 1012');
      assert.deepEqual(r.errors, []);
    }
  });
});
