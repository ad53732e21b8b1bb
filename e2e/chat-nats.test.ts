import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'nats';
import { GATEWAY_TOKEN_HEADER, signGatewayToken } from '../foundation/auth/identity.js';
import type { Caller, Role } from '../contracts/caller.js';
import { signSubscribeStatement } from '../foundation/graphql/subscriptions.js';
import { TokenSigner } from '../foundation/auth/tokens.js';
import { socketAsGateway, startTestStack, type TestStack } from './harness.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** reachable tells whether something listens at the NATS URL's host and port. */
async function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: hostname, port: Number(port || 4222), timeout: 1000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const skip = (await reachable(NATS_URL)) ? false : `no NATS server at ${NATS_URL} (set NATS_URL to run this test)`;
if (skip) process.stdout.write(`# skipping the NATS broker test: ${skip}\n`);

describe('chat with the NATS JetStream broker', { skip }, () => {
  let t: TestStack;
  let signer: TokenSigner;
  const customer = randomUUID();
  const provider = randomUUID();
  const conversation = randomUUID();
  const stream = `fixup_test_${randomBytes(4).toString('hex')}`;

  before(async () => {
    t = await startTestStack(
      { CHAT_BROKER: 'nats', CHAT_NATS_URL: NATS_URL, CHAT_NATS_STREAM: stream },
      { instances: { chat: 2 } },
    );
    const order = randomUUID();
    await t.sql(
      'order',
      `INSERT INTO orders (id, customer_id, service_id, description) VALUES ($1, $2, gen_random_uuid(), 'NATS order')`,
      [order, customer],
    );
    await t.sql('chat', `INSERT INTO conversations (id, order_id, customer_id, provider_id) VALUES ($1, $2, $3, $4)`, [
      conversation,
      order,
      customer,
      provider,
    ]);
    signer = await TokenSigner.create(
      JSON.parse(readFileSync(join(t.dataDir, 'keys', 'gateway-internal.jwks.json'), 'utf8')),
    );
  });
  after(async () => {
    await t?.stop();
    // The NATS server is shared: the test's stream goes with it.
    const nats = await connect({ servers: NATS_URL });
    await (await nats.jetstreamManager()).streams.delete(stream).catch(() => false);
    await nats.close();
  });

  it('a message committed through one chat process reaches, in order and once, a follower of another, and a resume with after replays from the table', async () => {
    const [first, second] = t.stack.services.filter((s) => s.name.startsWith('chat')).map((s) => s.url);
    const as = (id: string, role: Role): Caller => ({
      viewer: { id, roles: [role], sessionId: null },
      ip: null,
      userAgent: 'test',
      requestId: `nats-${randomUUID()}`,
    });
    const gatewayId = 'nats-test-gateway';
    const client = socketAsGateway(second!, signer, gatewayId);
    const follow = async (afterId: string | null, into: string[]) =>
      client.subscribe<{ messageAdded: { id: string; body: string } }>(
        {
          query: 'subscription($c: ID!, $a: ID) { messageAdded(conversationId: $c, after: $a) { id body } }',
          variables: { c: conversation, a: afterId },
          extensions: {
            gatewayToken: await signSubscribeStatement(signer, as(customer, 'CUSTOMER'), {
              gatewayId,
              subgraph: 'chat',
              ttlSeconds: 60,
            }),
          },
        },
        {
          next: (v) => v.data && into.push(`${v.data.messageAdded.id} ${v.data.messageAdded.body}`),
          error: (err) => into.push(`error ${JSON.stringify(err)}`),
          complete: () => {},
        },
      );
    const live: string[] = [];
    const stop = await follow(null, live);
    await new Promise((r) => setTimeout(r, 1000));
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(first!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [GATEWAY_TOKEN_HEADER]: await signGatewayToken(signer, as(provider, 'PROVIDER'), 'chat'),
        },
        body: JSON.stringify({
          query: 'mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id body } }',
          variables: { c: conversation, b: `via NATS ${i}` },
        }),
      });
      const body = (await res.json()) as { data: { sendMessage: { id: string; body: string } } };
      sent.push(`${body.data.sendMessage.id} ${body.data.sendMessage.body}`);
    }
    for (let i = 0; i < 200 && live.length < 5; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(live, sent);
    const resumed: string[] = [];
    const stopResumed = await follow(sent[1]!.split(' ')[0]!, resumed);
    for (let i = 0; i < 200 && resumed.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(resumed, sent.slice(2));
    stop();
    stopResumed();
    await client.dispose();
  });

  it('a message committed by a process that died before publishing still reaches followers (the relay publishes it)', async () => {
    const second = t.stack.services.find((s) => s.name === 'chat-2')!.url;
    const as: Caller = {
      viewer: { id: customer, roles: ['CUSTOMER'], sessionId: null },
      ip: null,
      userAgent: 'test',
      requestId: `nats-${randomUUID()}`,
    };
    const gatewayId = 'nats-relay-test-gateway';
    const client = socketAsGateway(second, signer, gatewayId);
    const live: string[] = [];
    client.subscribe<{ messageAdded: { body: string } }>(
      {
        query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { body } }',
        variables: { c: conversation },
        extensions: {
          gatewayToken: await signSubscribeStatement(signer, as, { gatewayId, subgraph: 'chat', ttlSeconds: 60 }),
        },
      },
      {
        next: (v) => v.data && live.push(v.data.messageAdded.body),
        error: (err) => live.push(`error ${JSON.stringify(err)}`),
        complete: () => {},
      },
    );
    await new Promise((r) => setTimeout(r, 1000));
    // What a chat process leaves when it dies right after its commit: the message and its record, never published.
    await t.sql(
      'chat',
      `WITH c AS (UPDATE conversations SET last_position = last_position + 1 WHERE id = $1 RETURNING id, provider_id, last_position),
            m AS (INSERT INTO messages (id, conversation_id, position, sender_id, body) SELECT gen_random_uuid(), id, last_position, provider_id, 'never published' FROM c RETURNING conversation_id, position)
       INSERT INTO message_announcements (conversation_id, position) SELECT conversation_id, position FROM m`,
      [conversation],
    );
    for (let i = 0; i < 400 && live.length < 1; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(live, ['never published']);
    assert.deepEqual(
      await t.sql('chat', `SELECT * FROM message_announcements`),
      [],
      'published announcements are removed',
    );
    await client.dispose();
  });
});
