import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { GATEWAY_TOKEN_HEADER, signGatewayToken } from '../foundation/auth/identity.js';
import { signSubscribeStatement } from '../foundation/graphql/subscriptions.js';
import { TokenSigner } from '../foundation/auth/tokens.js';
import type { Role } from '../contracts/caller.js';
import {
  devAccessTokens,
  metricSample,
  socketAsGateway,
  startTestStack,
  type GraphQLResponse,
  type Session,
  type TestStack,
} from './harness.js';

const CHAT = readFileSync(new URL('../../schema/operations/chat.graphql', import.meta.url), 'utf8');
const MESSAGE_ADDED = CHAT.slice(CHAT.indexOf('subscription MessageAdded'));
const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

interface Received {
  id: string;
  body: string;
  sender: { id: string; displayName: string };
  conversation: { id: string; order: { id: string; status: string } };
}

/** Follower is a real graphql-ws client through the gateway, as a chat client opens one. */
class Follower {
  readonly messages: Received[] = [];
  readonly errors: unknown[] = [];
  closeCode: number | undefined;
  private readonly client: Client;
  private done: Promise<void> = Promise.resolve();

  constructor(endpoint: string, token: string | undefined, headers: Record<string, string> = {}) {
    const url = endpoint.replace(/^http/, 'ws');
    this.client = createClient({
      url,
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers });
        }
      },
      lazy: false,
      retryAttempts: 0,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      on: { closed: (event) => (this.closeCode = (event as { code: number }).code) },
      // The close is recorded above; graphql-ws would also print it (its default onNonLazyError is console.error).
      onNonLazyError: () => {},
    });
  }

  follow(conversationId: string, after?: string): this {
    this.done = new Promise((resolve) => {
      this.client.subscribe<{ messageAdded: Received }>(
        { query: MESSAGE_ADDED, variables: { conversationId, after } },
        {
          next: (value) =>
            value.data ? this.messages.push(value.data.messageAdded) : this.errors.push(...(value.errors ?? [])),
          error: (err) => {
            this.errors.push(err);
            resolve();
          },
          complete: () => resolve(),
        },
      );
    });
    return this;
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this.messages;
  }

  async waitClosed(timeoutMs = 10_000): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined && this.errors.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    return this.closeCode;
  }

  async close(): Promise<void> {
    await this.client.dispose();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 500))]);
  }
}

describe('chat: conversations and federated subscriptions through the gateway', () => {
  let t: TestStack;
  let admin: Session;
  let customer: Session;
  let provider: Session;
  let stranger: Session;
  let orderId: string;
  let conversationId: string;
  const followers: Follower[] = [];
  const follower = (token: string | undefined, headers?: Record<string, string>) => {
    const f = new Follower(t.stack.endpoint, token, headers);
    followers.push(f);
    return f;
  };
  const send = (who: Session, body: string) =>
    t.gql(
      `mutation SendMessage($conversationId: ID!, $body: String!) { sendMessage(conversationId: $conversationId, body: $body) { id body sentAt sender { id displayName } } }`,
      { conversationId, body },
      { token: who.accessToken },
    );

  before(async () => {
    // A 2-second internal token: every event of a subscription older than that needs a fresh one.
    t = await startTestStack({ CHAT_OUTBOX_POLL_MS: '100', GATEWAY_INTERNAL_TOKEN_TTL_SECONDS: '2' });
    admin = await t.login(t.admin.email, t.admin.password);
    customer = await t.register('CUSTOMER', 'Chloe');
    provider = await t.register('PROVIDER', 'Paco');
    stranger = await t.register('PROVIDER', 'Sven');
    const [leak] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    await t.gql(
      `mutation($s: ID!) { addSkill(serviceId: $s) { id } }`,
      { s: leak.id },
      { token: provider.accessToken },
    );
    orderId = (
      await t.gql(
        `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
        { i: { serviceId: leak.id, description: 'Chat about it' } },
        { token: customer.accessToken },
      )
    ).data!.createOrder.id;
  });
  after(async () => {
    for (const f of followers) await f.close();
    await t?.stop();
  });

  it('a provider with the skill opens the conversation (once), audited; others may not', async () => {
    const open = `mutation OpenConversation($orderId: ID!, $providerId: ID) { openConversation(orderId: $orderId, providerId: $providerId) { id order { id status } customer { id displayName } provider { id displayName } } }`;
    const res = await t.gql(open, { orderId }, { token: provider.accessToken });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const conversation = res.data!.openConversation;
    conversationId = conversation.id;
    assert.deepEqual(conversation.order, { id: orderId, status: 'OPEN' });
    assert.equal(conversation.customer.displayName, 'Chloe');
    assert.equal(conversation.provider.displayName, 'Paco');
    assert.equal(
      (await t.gql(open, { orderId }, { token: provider.accessToken })).data!.openConversation.id,
      conversationId,
      'opening again returns it',
    );
    assert.equal(
      code(await t.gql(open, { orderId }, { token: stranger.accessToken })),
      'NOT_FOUND',
      'not among their skills',
    );
    assert.equal(
      code(await t.gql(open, { orderId, providerId: stranger.id }, { token: customer.accessToken })),
      'BAD_USER_INPUT',
      'the customer opens only with a provider who offered',
    );
    assert.equal(code(await t.gql(open, { orderId })), 'UNAUTHENTICATED');
    for (let i = 0; i < 50; i++) {
      const rows = await t.sql(
        'chat',
        `SELECT delivered_at FROM outbox WHERE payload->>'action' = 'conversation.opened'`,
      );
      if (rows.length === 1 && rows[0].delivered_at) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [event] = await t.sql(
      'audit',
      `SELECT actor_id, target_id FROM audit_events WHERE action = 'conversation.opened'`,
    );
    assert.deepEqual(event, { actor_id: provider.id, target_id: conversationId });
  });

  it("each participant receives the other's messages with fields from the user and order subgraphs", async () => {
    const asCustomer = follower(customer.accessToken).follow(conversationId);
    const asProvider = follower(provider.accessToken).follow(conversationId);
    // The first subscription also plans the operation and opens the gateway's shared socket to chat.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      (await send(customer, '  Hello, when can you come?  ')).data?.sendMessage.body,
      'Hello, when can you come?',
    );
    assert.equal((await send(provider, 'Tomorrow at nine.')).errors, undefined);
    for (const f of [asCustomer, asProvider]) {
      const got = await f.waitFor(2);
      assert.deepEqual(
        got.map((m) => [m.body, m.sender.displayName]),
        [
          ['Hello, when can you come?', 'Chloe'],
          ['Tomorrow at nine.', 'Paco'],
        ],
        JSON.stringify(f.errors),
      );
      assert.deepEqual(got[0]!.conversation, { id: conversationId, order: { id: orderId, status: 'OPEN' } });
    }
  });

  it("each participant's order status is kept by the gateway until the order changes, which the next message shows", async () => {
    // An order of its own, with a second provider's offer: accepting it takes the order from the first provider's view.
    const [leak] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    const rival = await t.register('PROVIDER', 'Rita');
    await t.gql(`mutation($s: ID!) { addSkill(serviceId: $s) { id } }`, { s: leak.id }, { token: rival.accessToken });
    const order = (
      await t.gql(
        `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
        { i: { serviceId: leak.id, description: 'Kept status' } },
        { token: customer.accessToken },
      )
    ).data!.createOrder.id as string;
    const offer = await t.gql(
      `mutation($i: SubmitOfferInput!) { submitOffer(input: $i) { id } }`,
      { i: { orderId: order, priceCents: 5000, currency: 'EUR' } },
      { token: rival.accessToken },
    );
    assert.equal(offer.errors, undefined, JSON.stringify(offer.errors));
    const opened = await t.gql(
      `mutation($o: ID!) { openConversation(orderId: $o) { id } }`,
      { o: order },
      { token: provider.accessToken },
    );
    const conversation = opened.data!.openConversation.id as string;
    const asCustomer = follower(customer.accessToken).follow(conversation);
    const asProvider = follower(provider.accessToken).follow(conversation);
    await new Promise((r) => setTimeout(r, 1500));
    const say = async (body: string) => {
      const res = await t.gql(
        `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
        { c: conversation, b: body },
        { token: customer.accessToken },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    };
    const hits = () =>
      metricSample(t, 'gateway', 'fixup_gateway_caller_cache_lookups_total', { subgraph: 'order', result: 'hit' });
    const statusOf = (f: Follower, i: number) => f.messages[i]?.conversation.order?.status ?? null;

    await say('first');
    await asCustomer.waitFor(1);
    await asProvider.waitFor(1);
    assert.deepEqual([statusOf(asCustomer, 0), statusOf(asProvider, 0)], ['OPEN', 'OPEN']);
    const before = await hits();
    await say('second');
    await asCustomer.waitFor(2);
    await asProvider.waitFor(2);
    assert.deepEqual([statusOf(asCustomer, 1), statusOf(asProvider, 1)], ['OPEN', 'OPEN']);
    assert.equal((await hits()) - before, 2, "both callers' statuses came from the gateway, not from order");

    // The provider removes the order's service from their skills: the catalog's event ends what the gateway kept for
    // them, and order no longer shows them the open order; the customer's answer stays kept.
    const removed = await t.gql(
      `mutation($s: ID!) { removeSkill(serviceId: $s) { id } }`,
      { s: leak.id },
      { token: provider.accessToken },
    );
    assert.equal(removed.errors, undefined, JSON.stringify(removed.errors));
    await say('skill gone');
    await asCustomer.waitFor(3);
    await asProvider.waitFor(3);
    assert.deepEqual([statusOf(asCustomer, 2), statusOf(asProvider, 2)], ['OPEN', null]);
    const added = await t.gql(
      `mutation($s: ID!) { addSkill(serviceId: $s) { id } }`,
      { s: leak.id },
      { token: provider.accessToken },
    );
    assert.equal(added.errors, undefined, JSON.stringify(added.errors));

    // Accepting the rival's offer: through the gateway that answers it, the very next delivery shows the change, to
    // each caller as order now answers them (the customer sees ACCEPTED, the first provider no longer sees the order).
    const accepted = await t.gql(
      `mutation($o: ID!) { acceptOffer(offerId: $o) { id status } }`,
      { o: offer.data!.submitOffer.id },
      { token: customer.accessToken },
    );
    assert.equal(accepted.errors, undefined, JSON.stringify(accepted.errors));
    await say('third');
    await asCustomer.waitFor(4);
    await asProvider.waitFor(4);
    assert.equal(statusOf(asCustomer, 3), 'ACCEPTED');
    assert.equal(asProvider.messages.length, 4, JSON.stringify(asProvider.errors));
    assert.equal(statusOf(asProvider, 3), null, 'the order is hidden from a provider whose offer was not accepted');
  });

  it('history pages backwards, and sending is for the two participants only', async () => {
    const history = await t.gql(
      `query ConversationHistory($id: ID!, $last: Int, $before: String) { conversation(id: $id) { id messages(last: $last, before: $before) { edges { cursor node { id body sender { id } } } pageInfo { hasPreviousPage startCursor } } } }`,
      { id: conversationId, last: 1 },
      { token: admin.accessToken },
    );
    assert.deepEqual(
      history.data!.conversation.messages.edges.map((e: { node: { body: string } }) => e.node.body),
      ['Tomorrow at nine.'],
    );
    assert.equal(history.data!.conversation.messages.pageInfo.hasPreviousPage, true);
    assert.equal(code(await send(admin, 'I am the admin')), 'FORBIDDEN', 'admins read but do not send');
    assert.equal(code(await send(stranger, 'hi')), 'NOT_FOUND');
    for (const body of ['   ', 'x'.repeat(4001)]) {
      const res = await send(customer, body);
      assert.equal(code(res), 'BAD_USER_INPUT');
      assert.equal(res.errors![0]!.extensions!.field, 'body');
    }
    assert.equal(
      code(
        await t.gql(
          `query($id: ID!) { conversation(id: $id) { id } }`,
          { id: conversationId },
          { token: stranger.accessToken },
        ),
      ),
      'NOT_FOUND',
    );
  });

  it('refuses a socket without a token or with a bad one (4403), and a reader who is not a participant', async () => {
    assert.equal(await follower(undefined).follow(conversationId).waitClosed(), 4403);
    assert.equal(await follower('not.a.token').follow(conversationId).waitClosed(), 4403);
    const outsider = follower(stranger.accessToken).follow(conversationId);
    for (let i = 0; i < 100 && outsider.errors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(
      (outsider.errors[0] as { extensions?: { code?: string } })?.extensions?.code,
      'NOT_FOUND',
      JSON.stringify(outsider.errors),
    );
    const upgrade = (origin: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(t.stack.endpoint.replace(/^http/, 'ws'), 'graphql-transport-ws', {
          headers: { origin },
        });
        socket.on('open', () => {
          socket.close();
          resolve(101);
        });
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('error', () => {});
      });
    assert.equal(await upgrade('https://evil.example'), 403, 'a foreign origin is refused');
    assert.equal(await upgrade('http://localhost:3000'), 101, 'an allowed origin is let in');
  });

  it('ends a subscription in the gateway and in chat at once when its client ends it, on a quiet conversation', async () => {
    const counts = async () => [
      await metricSample(t, 'gateway', 'fixup_gateway_subscriptions', { subgraph: 'chat' }),
      await metricSample(t, 'chat', 'fixup_chat_followers'),
    ];
    const reach = async (want: number[]) => {
      const until = Date.now() + 3000;
      let now = await counts();
      while (JSON.stringify(now) !== JSON.stringify(want) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        now = await counts();
      }
      return now;
    };
    const [gateway, chat] = await counts();
    const client = createClient({
      url: t.stack.endpoint.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${customer.accessToken}` },
      onNonLazyError: () => {},
    });
    const follow = () =>
      client.subscribe(
        { query: MESSAGE_ADDED, variables: { conversationId } },
        { next() {}, error() {}, complete() {} },
      );
    // Ended by the client (`complete`) while nothing is sent: without endingAtOnce both stayed until the next message.
    const unsubscribe = follow();
    assert.deepEqual(await reach([gateway! + 1, chat! + 1]), [gateway! + 1, chat! + 1]);
    unsubscribe();
    assert.deepEqual(await reach([gateway!, chat!]), [gateway, chat]);
    // Ended by the socket's close.
    follow();
    follow();
    assert.deepEqual(await reach([gateway! + 2, chat! + 2]), [gateway! + 2, chat! + 2]);
    await client.dispose();
    assert.deepEqual(await reach([gateway!, chat!]), [gateway, chat]);
  });

  it('closes a socket that sends what is not a graphql-ws message with 4400, before and after it is acknowledged', async () => {
    const closeCodeAfter = (messages: string[]) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(t.stack.endpoint.replace(/^http/, 'ws'), 'graphql-transport-ws');
        socket.on('open', () => {
          for (const m of messages) socket.send(m);
        });
        socket.on('close', (code) => resolve(code));
        socket.on('error', () => {});
      });
    const init = JSON.stringify({
      type: 'connection_init',
      payload: { authorization: `Bearer ${customer.accessToken}` },
    });
    assert.equal(await closeCodeAfter(['not json {']), 4400);
    assert.equal(await closeCodeAfter([JSON.stringify({ type: 'nonsense' })]), 4400);
    assert.equal(await closeCodeAfter([init, 'not json {']), 4400);
    assert.equal(await closeCodeAfter([init, JSON.stringify({ id: 1, type: 'subscribe', payload: {} })]), 4400);
  });

  it('keeps delivering, with fields from other subgraphs, after the internal token of its first event has expired', async () => {
    const f = follower(customer.accessToken).follow(conversationId);
    await new Promise((r) => setTimeout(r, 300));
    await send(provider, 'before');
    await f.waitFor(1);
    // Past the token's 2 seconds and the subgraphs' 5 seconds of clock tolerance.
    await new Promise((r) => setTimeout(r, 8000));
    await send(provider, 'after the token expired');
    const got = await f.waitFor(2);
    assert.deepEqual(
      got.map((m) => [m.body, m.sender.displayName, m.conversation.order.status]),
      [
        ['before', 'Paco', 'OPEN'],
        ['after the token expired', 'Paco', 'OPEN'],
      ],
      JSON.stringify(f.errors),
    );
  });

  it('resumes with after: exactly the missed messages, in order, then live ones', async () => {
    const before = await t.gql(
      `query($id: ID!) { conversation(id: $id) { messages(last: 1) { edges { node { id } } } } }`,
      { id: conversationId },
      { token: customer.accessToken },
    );
    const lastSeen = before.data!.conversation.messages.edges[0].node.id;
    for (const body of ['missed one', 'missed two', 'missed three']) await send(provider, body);
    const resumed = follower(customer.accessToken).follow(conversationId, lastSeen);
    assert.deepEqual(
      (await resumed.waitFor(3)).map((m) => m.body),
      ['missed one', 'missed two', 'missed three'],
    );
    await send(provider, 'live again');
    assert.deepEqual(
      (await resumed.waitFor(4)).map((m) => m.body),
      ['missed one', 'missed two', 'missed three', 'live again'],
    );
  });

  it('a message sent through one chat process reaches a subscriber served by another', async () => {
    const keys = JSON.parse(readFileSync(join(t.dataDir, 'keys', 'gateway-internal.jwks.json'), 'utf8'));
    const signer = await TokenSigner.create(keys);
    const asCustomer = () =>
      signGatewayToken(
        signer,
        {
          viewer: { id: customer.id, roles: ['CUSTOMER'], sessionId: null },
          ip: null,
          userAgent: 'test',
          requestId: 'two-processes',
        },
        'chat',
      );
    const first = t.stack.services.find((s) => s.name === 'chat')!.url;
    const second = await t.stack.startReplica('chat');
    const received: string[] = [];
    const gatewayId = 'test-gateway';
    const client = socketAsGateway(second, signer, gatewayId);
    const statement = (viewer: { id: string; roles: Role[] }, options: { gatewayId: string; subgraph: string }) =>
      signSubscribeStatement(
        signer,
        { viewer: { ...viewer, sessionId: null }, ip: null, userAgent: 'test', requestId: 'two-processes' },
        { ...options, ttlSeconds: 60 },
      );
    const refusals: unknown[] = [];
    const refused = (extensions: Record<string, unknown> | undefined) =>
      new Promise<void>((resolve) =>
        client.subscribe(
          {
            query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { body } }',
            variables: { c: conversationId },
            extensions,
          },
          { next: () => {}, error: (err) => (refusals.push(err), resolve()), complete: () => resolve() },
        ),
      );
    // On a shared socket, each operation needs its own statement, made for this subgraph by the socket's own gateway.
    await refused(undefined);
    await refused({ gatewayToken: await asCustomer() });
    await refused({
      gatewayToken: await statement(
        { id: customer.id, roles: ['CUSTOMER'] },
        { gatewayId: 'another-gateway', subgraph: 'chat' },
      ),
    });
    await refused({
      gatewayToken: await statement({ id: customer.id, roles: ['CUSTOMER'] }, { gatewayId, subgraph: 'order' }),
    });
    assert.deepEqual(
      refusals.map((r) => (r as { extensions?: { code?: string } }[])[0]?.extensions?.code),
      ['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED'],
    );
    const stop = client.subscribe<{ messageAdded: { body: string } }>(
      {
        query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { body } }',
        variables: { c: conversationId },
        extensions: {
          gatewayToken: await statement({ id: customer.id, roles: ['CUSTOMER'] }, { gatewayId, subgraph: 'chat' }),
        },
      },
      { next: (v) => v.data && received.push(v.data.messageAdded.body), error: () => {}, complete: () => {} },
    );
    const strangers: unknown[] = [];
    client.subscribe(
      {
        query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { body } }',
        variables: { c: conversationId },
        extensions: {
          gatewayToken: await statement({ id: stranger.id, roles: ['PROVIDER'] }, { gatewayId, subgraph: 'chat' }),
        },
      },
      { next: (v) => strangers.push(v.errors), error: (err) => strangers.push(err), complete: () => {} },
    );
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(first, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [GATEWAY_TOKEN_HEADER]: await asCustomer() },
      body: JSON.stringify({
        query: 'mutation($c: ID!) { sendMessage(conversationId: $c, body: "across processes") { id } }',
        variables: { c: conversationId },
      }),
    });
    assert.equal(res.status, 200);
    for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    stop();
    await client.dispose();
    assert.deepEqual(received, ['across processes']);
    assert.equal(
      (strangers[0] as { extensions?: { code?: string } }[])?.[0]?.extensions?.code,
      'NOT_FOUND',
      "each operation on the shared socket is its own caller's",
    );
  });

  it('refuses an expired token at connection_init, and closes the socket when the token expires (4001)', async () => {
    const signer = await devAccessTokens(t.dataDir);
    const sign = (expiresIn: number) => signer(customer.id, 'CUSTOMER', expiresIn);
    assert.equal(
      await follower(await sign(-30))
        .follow(conversationId)
        .waitClosed(),
      4403,
    );
    const expiring = follower(await sign(2)).follow(conversationId);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(expiring.closeCode, undefined, 'open while the token is valid');
    assert.equal(await expiring.waitClosed(8000), 4001);
  });

  it('closes the socket when the session is revoked (4001)', async () => {
    const session = await t.login(customer.email, customer.password);
    const f = follower(session.accessToken).follow(conversationId);
    await new Promise((r) => setTimeout(r, 300));
    await t.gql(
      `mutation($r: String!) { logout(refreshToken: $r) }`,
      { r: session.refreshToken },
      { token: session.accessToken },
    );
    assert.equal(await f.waitClosed(), 4001);
  });

  it('a graceful shutdown closes subscription sockets with 1012 (service restart)', async () => {
    const f = follower(provider.accessToken).follow(conversationId);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stack.stopService('gateway'), 0);
    assert.equal(await f.waitClosed(), 1012);
  });
});
