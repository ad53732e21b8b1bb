import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Caller } from '../contracts/caller.js';
import { GATEWAY_TOKEN_HEADER, signGatewayToken } from '../foundation/auth/identity.js';
import { databaseUrl } from '../foundation/postgres/admin.js';
import { TokenSigner } from '../foundation/auth/tokens.js';
import { startTestStack, type GraphQLResponse, type Session, type TestStack } from './harness.js';

const ORDERS = readFileSync(new URL('../../schema/operations/orders.graphql', import.meta.url), 'utf8');
const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

describe('security review: each finding, through the gateway', () => {
  let t: TestStack;
  let customer: Session;
  let winner: Session;
  let loser: Session;
  let leak: string;

  const run = async (name: string, variables: Record<string, unknown>, who?: Session) => {
    const res = await fetch(t.stack.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(who ? { authorization: `Bearer ${who.accessToken}` } : {}) },
      body: JSON.stringify({ query: ORDERS, operationName: name, variables }),
    });
    return (await res.json()) as GraphQLResponse;
  };
  const submit = (who: Session, orderId: string, priceCents: number) =>
    run('SubmitOffer', { input: { orderId, priceCents, currency: 'EUR' } }, who);

  before(async () => {
    t = await startTestStack();
    customer = await t.register('CUSTOMER', 'Carla');
    winner = await t.register('PROVIDER', 'Wanda');
    loser = await t.register('PROVIDER', 'Lou');
    [leak] = (await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`)).map((r) => r.id);
    for (const p of [winner, loser])
      assert.equal(
        (await t.gql(`mutation($s: ID!) { addSkill(serviceId: $s) { id } }`, { s: leak }, { token: p.accessToken }))
          .errors,
        undefined,
      );
  });
  after(() => t?.stop());

  it("Offer.order: a losing provider sees the order's id, status and service, and nothing else of it", async () => {
    const orderId = (
      await run('CreateOrder', { input: { serviceId: leak, description: 'Secret address: 1 Main St' } }, customer)
    ).data!.createOrder.id;
    const winning = (await submit(winner, orderId, 9000)).data!.submitOffer.id;
    assert.equal((await submit(loser, orderId, 8000)).errors, undefined);
    assert.equal((await run('AcceptOffer', { offerId: winning }, customer)).errors, undefined);

    const mine = await run('MyOffers', { first: 10 }, loser);
    assert.equal(mine.errors, undefined, 'MyOffers keeps working for the loser');
    assert.deepEqual(
      mine.data!.me.offers.edges.map((e: { node: { order: unknown } }) => e.node.order),
      [{ id: orderId, status: 'ACCEPTED' }],
    );

    const deep = await t.gql(
      `{ me { offers(first: 5) { edges { node { id order { id status service { id } description customer { id } acceptedOffer { id priceCents provider { id } } offers { id priceCents } } } } } } }`,
      undefined,
      { token: loser.accessToken },
    );
    assert.doesNotMatch(JSON.stringify(deep.data), /Secret address|9000/);
    assert.ok(!JSON.stringify(deep.data).includes(winner.id), "the winner's identity does not leak");
    assert.ok(
      deep.errors?.every((e) => e.extensions?.code === 'NOT_FOUND'),
      JSON.stringify(deep.errors),
    );
    const light = await t.gql(
      `{ me { offers(first: 5) { edges { node { order { id status service { id name } } } } } } }`,
      undefined,
      { token: loser.accessToken },
    );
    assert.equal(light.errors, undefined);
    assert.deepEqual(light.data!.me.offers.edges[0].node.order, {
      id: orderId,
      status: 'ACCEPTED',
      service: { id: leak, name: 'Leak repair' },
    });

    const asWinner = await t.gql(
      `{ me { offers(first: 5) { edges { node { order { id description } } } } } }`,
      undefined,
      { token: winner.accessToken },
    );
    assert.equal(asWinner.errors, undefined);
    assert.equal(
      asWinner.data!.me.offers.edges[0].node.order.description,
      'Secret address: 1 Main St',
      'the accepted provider sees the whole order',
    );
  });

  it('acceptOffer by a provider who knows the offer is FORBIDDEN, and changes nothing', async () => {
    const orderId = (await run('CreateOrder', { input: { serviceId: leak, description: 'Tap' } }, customer)).data!
      .createOrder.id;
    const offerId = (await submit(winner, orderId, 5000)).data!.submitOffer.id;
    assert.equal(code(await run('AcceptOffer', { offerId }, winner)), 'FORBIDDEN', 'its own provider');
    assert.equal(code(await run('AcceptOffer', { offerId }, loser)), 'FORBIDDEN', 'a provider who may see the order');
    const [row] = await t.sql('order', `SELECT status FROM orders WHERE id = $1`, [orderId]);
    assert.equal(row.status, 'OPEN');
  });

  it('a provider makes at most 3 offers on one order, withdrawn ones included; the 4th is CONFLICT', async () => {
    const orderId = (await run('CreateOrder', { input: { serviceId: leak, description: 'Sink' } }, customer)).data!
      .createOrder.id;
    for (let i = 0; i < 3; i++) {
      const offered = await submit(loser, orderId, 1000 + i);
      assert.equal(offered.errors, undefined, `offer ${i + 1}`);
      if (i < 2)
        assert.equal((await run('WithdrawOffer', { offerId: offered.data!.submitOffer.id }, loser)).errors, undefined);
    }
    const [pending] = await t.sql('order', `SELECT id FROM offers WHERE order_id = $1 AND status = 'PENDING'`, [
      orderId,
    ]);
    assert.equal((await run('WithdrawOffer', { offerId: pending.id }, loser)).errors, undefined);
    const fourth = await submit(loser, orderId, 999);
    assert.equal(code(fourth), 'CONFLICT');
    const [{ n }] = await t.sql('order', `SELECT count(*)::int AS n FROM offers WHERE order_id = $1`, [orderId]);
    assert.equal(n, 3, 'nothing half-written');
    assert.equal((await submit(winner, orderId, 999)).errors, undefined, 'another provider still may');
  });

  it('a 10,000-character email is BAD_USER_INPUT naming the field, for login, reset and sign-up', async () => {
    const huge = `${'a'.repeat(10_000)}@example.com`;
    for (const [document, variables] of [
      [`mutation($e: String!) { login(email: $e, password: "whatever password") { accessToken } }`, { e: huge }],
      [`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: huge }],
      [
        `mutation($i: RegisterInput!) { register(input: $i) { accessToken } }`,
        { i: { email: huge, password: 'long enough password', displayName: 'X', role: 'CUSTOMER' } },
      ],
    ] as const) {
      const res = await t.gql(document, variables);
      assert.equal(code(res), 'BAD_USER_INPUT', document);
      assert.match(String(res.errors![0]!.extensions!.field), /email$/);
    }
  });

  it('what fuzzing found: NUL characters and variables only a subgraph parses are BAD_USER_INPUT, never internal', async () => {
    const nul = await t.gql(
      `mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id } }`,
      { i: { displayName: 'a\u0000b' } },
      { token: customer.accessToken },
    );
    assert.equal(code(nul), 'BAD_USER_INPUT');
    assert.equal(nul.errors![0]!.extensions!.field, 'input.displayName');
    const admin = await t.login(t.admin.email, t.admin.password);
    const date = await t.gql(
      `query($f: AuditEventFilter) { auditEvents(filter: $f, first: 1) { edges { cursor } } }`,
      { f: { to: '-073358-04-01T19:15:04.623Z' } },
      { token: admin.accessToken },
    );
    assert.equal(code(date), 'BAD_USER_INPUT');
    assert.equal(date.errors![0]!.extensions!.field, 'f.to', 'the path in the variables sent');
  });

  it('every error a client sees carries only the contract extensions', async () => {
    const res = await t.gql(
      `{ order(id: "00000000-0000-4000-8000-000000000000") { id } nope: order(id: "x") { id } }`,
      undefined,
      { token: customer.accessToken },
    );
    assert.ok(res.errors && res.errors.length > 0);
    for (const e of res.errors!)
      for (const key of Object.keys(e.extensions ?? {}))
        assert.ok(['code', 'field', 'retryAfterSeconds', 'limit', 'max'].includes(key), key);
  });

  it("a subgraph refuses the gateway's token made for another subgraph", async () => {
    const signer = await TokenSigner.create(
      JSON.parse(readFileSync(join(t.dataDir, 'keys', 'gateway-internal.jwks.json'), 'utf8')),
    );
    const caller: Caller = {
      viewer: { id: customer.id, roles: ['CUSTOMER'], sessionId: null },
      ip: null,
      userAgent: 'test',
      requestId: 'audience',
    };
    const order = t.stack.services.find((s) => s.name === 'order')!.url;
    const ask = async (token: string) =>
      (
        await fetch(order, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [GATEWAY_TOKEN_HEADER]: token },
          body: JSON.stringify({ query: '{ __typename }' }),
        })
      ).status;
    assert.equal(
      await ask(await signGatewayToken(signer, caller, 'catalog')),
      401,
      'a token for catalog, sent to order',
    );
    assert.equal(await ask(await signGatewayToken(signer, caller, 'order')), 200, 'a token for order');
  });

  it("internal routes take the services' own credentials, never a gateway token passed on", async () => {
    const signer = await TokenSigner.create(
      JSON.parse(readFileSync(join(t.dataDir, 'keys', 'gateway-internal.jwks.json'), 'utf8')),
    );
    const caller: Caller = {
      viewer: { id: winner.id, roles: ['PROVIDER'], sessionId: null },
      ip: null,
      userAgent: 'test',
      requestId: 'internal',
    };
    const catalog = new URL('/internal/services', t.stack.services.find((s) => s.name === 'catalog')!.url);
    catalog.searchParams.set('ids', leak);
    const ask = async (headers: Record<string, string>) => (await fetch(catalog, { headers })).status;
    assert.equal(
      await ask({ [GATEWAY_TOKEN_HEADER]: await signGatewayToken(signer, caller, 'catalog') }),
      401,
      "the gateway's token for catalog",
    );
    assert.equal(
      await ask({ [GATEWAY_TOKEN_HEADER]: await signGatewayToken(signer, caller, 'order') }),
      401,
      "the gateway's token for order, passed on",
    );
    assert.equal(await ask({ authorization: 'Bearer wrong' }), 401);
    const secret = readFileSync(join(t.dataDir, 'secrets', 'internal-call.secret'), 'utf8').trim();
    assert.equal(await ask({ authorization: `Bearer ${secret}` }), 200);
  });

  it("each running service's database role changes rows only: no DDL, no trigger changes; audit's may not UPDATE, DELETE or TRUNCATE", async () => {
    for (const grant of t.stack.grants) {
      const client = new pg.Client({ connectionString: databaseUrl(t.adminUrl, grant) });
      await client.connect();
      try {
        await assert.rejects(client.query('CREATE TABLE sneaky (x int)'), /permission denied/, grant.database);
        await assert.rejects(client.query('DROP TABLE typeorm_migrations'), /must be owner/, grant.database);
        await assert.rejects(
          client.query('ALTER TABLE typeorm_migrations DISABLE TRIGGER ALL'),
          /must be owner/,
          grant.database,
        );
        if (grant.database.endsWith('_audit')) {
          for (const sql of [
            `UPDATE audit_events SET action = 'x'`,
            'DELETE FROM audit_events',
            'TRUNCATE audit_events',
          ])
            await assert.rejects(client.query(sql), /permission denied/, sql);
          assert.ok(
            (await client.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n > 0,
            'audit still records',
          );
        }
      } finally {
        await client.end();
      }
    }
  });
});
