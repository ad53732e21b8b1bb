import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  metricSample,
  STATEMENTS_PER_REQUEST,
  startTestStack,
  waitForMetric,
  type GraphQLResponse,
  type Session,
  type TestStack,
} from './harness.js';

const contract = (file: string) => readFileSync(new URL(`../../schema/operations/${file}`, import.meta.url), 'utf8');
const ORDERS = contract('orders.graphql');
const op = (name: string) => ({ document: ORDERS, name });

const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

describe('orders: the workflow through the gateway', () => {
  let t: TestStack;
  let admin: Session;
  let customer: Session;
  let otherCustomer: Session;
  let p1: Session;
  let p2: Session;
  let noSkill: Session;
  let leak: string;
  let boiler: string;

  /** run sends one of the contract's operations, by name, as a frontend does. */
  const run = async (
    operation: { document: string; name: string },
    variables: Record<string, unknown>,
    who?: Session,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(t.stack.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(who ? { authorization: `Bearer ${who.accessToken}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query: operation.document, operationName: operation.name, variables }),
    });
    return { status: res.status, headers: res.headers, ...((await res.json()) as object) } as GraphQLResponse;
  };
  const createOrder = async (who: Session, serviceId = leak, description = 'The kitchen tap drips') =>
    (await run(op('CreateOrder'), { input: { serviceId, description } }, who)).data!.createOrder;
  const offer = async (who: Session, orderId: string, priceCents = 5000) =>
    run(op('SubmitOffer'), { input: { orderId, priceCents, currency: 'EUR', message: 'Tomorrow morning' } }, who);

  before(async () => {
    // The dashboard's statements are counted per request (their log lines), which is off by default before Node 24.
    t = await startTestStack(STATEMENTS_PER_REQUEST);
    admin = await t.login(t.admin.email, t.admin.password);
    customer = await t.register('CUSTOMER', 'Cleo');
    otherCustomer = await t.register('CUSTOMER', 'Otto');
    p1 = await t.register('PROVIDER', 'Paula');
    p2 = await t.register('PROVIDER', 'Pedro');
    noSkill = await t.register('PROVIDER', 'Nina');
    [leak, boiler] = (
      await t.sql(
        'catalog',
        `SELECT id FROM services WHERE name IN ('Leak repair', 'Boiler service') ORDER BY name DESC`,
      )
    ).map((r) => r.id);
    for (const p of [p1, p2]) {
      const res = await t.gql(
        `mutation($s: ID!) { addSkill(serviceId: $s) { id } }`,
        { s: leak },
        { token: p.accessToken },
      );
      assert.equal(res.errors, undefined);
    }
  });
  after(() => t?.stop());

  describe('createOrder', () => {
    it('a customer opens an order, audited', async () => {
      const res = await run(op('CreateOrder'), { input: { serviceId: leak, description: '  Tap drips  ' } }, customer);
      assert.equal(res.errors, undefined);
      const order = res.data!.createOrder;
      assert.equal(order.status, 'OPEN');
      assert.equal(order.description, 'Tap drips');
      assert.deepEqual(order.service, { id: leak, name: 'Leak repair' });
      assert.deepEqual(order.customer, { id: customer.id, displayName: 'Cleo' });
      const events = await t.sql('order', `SELECT payload FROM outbox WHERE payload->>'targetId' = $1`, [order.id]);
      assert.deepEqual(
        events.map((e) => [e.payload.action, e.payload.actorId]),
        [['order.created', customer.id]],
      );
    });

    it('is refused for providers and the signed out, and for bad input, writing nothing', async () => {
      const count = async () => (await t.sql('order', `SELECT count(*)::int AS n FROM orders`))[0].n;
      const before = await count();
      assert.equal(
        code(await run(op('CreateOrder'), { input: { serviceId: leak, description: 'x' } }, p1)),
        'FORBIDDEN',
      );
      assert.equal(
        code(await run(op('CreateOrder'), { input: { serviceId: leak, description: 'x' } })),
        'UNAUTHENTICATED',
      );
      assert.equal(
        code(await run(op('CreateOrder'), { input: { serviceId: randomUUID(), description: 'x' } }, customer)),
        'NOT_FOUND',
      );
      for (const [input, field] of [
        [{ serviceId: 'nope', description: 'x' }, 'input.serviceId'],
        [{ serviceId: leak, description: '   ' }, 'input.description'],
        [{ serviceId: leak, description: 'x'.repeat(4001) }, 'input.description'],
      ] as const) {
        const res = await run(op('CreateOrder'), { input }, customer);
        assert.equal(code(res), 'BAD_USER_INPUT');
        assert.equal(res.errors![0]!.extensions!.field, field);
      }
      assert.equal(await count(), before);
    });
  });

  describe('offers and visibility', () => {
    let orderId: string;
    before(async () => {
      orderId = (await createOrder(customer)).id;
    });

    it('who may see an order', async () => {
      for (const who of [customer, p1, p2, admin])
        assert.equal((await run(op('Order'), { id: orderId }, who)).data?.order?.id, orderId, who.email);
      for (const who of [noSkill, otherCustomer])
        assert.equal(code(await run(op('Order'), { id: orderId }, who)), 'NOT_FOUND', who.email);
      assert.equal(code(await run(op('Order'), { id: orderId })), 'UNAUTHENTICATED');
    });

    it('providers with the skill offer once while it is OPEN; input is checked', async () => {
      const first = await offer(p1, orderId);
      assert.equal(first.errors, undefined);
      assert.deepEqual(
        { ...first.data!.submitOffer, id: undefined },
        {
          id: undefined,
          status: 'PENDING',
          priceCents: 5000,
          currency: 'EUR',
          message: 'Tomorrow morning',
          order: { id: orderId, status: 'OPEN' },
          provider: { id: p1.id, displayName: 'Paula' },
        },
      );
      assert.equal(code(await offer(p1, orderId)), 'CONFLICT', 'one PENDING offer per provider');
      assert.equal(code(await offer(noSkill, orderId)), 'NOT_FOUND', 'not among their skills');
      assert.equal(code(await offer(customer, orderId)), 'FORBIDDEN', 'customers do not offer');
      for (const [input, field] of [
        [{ orderId, priceCents: -1, currency: 'EUR' }, 'input.priceCents'],
        [{ orderId, priceCents: 0, currency: 'EUR' }, 'input.priceCents'],
        [{ orderId, priceCents: 100_000_001, currency: 'EUR' }, 'input.priceCents'],
        [{ orderId, priceCents: 100, currency: 'XYZ' }, 'input.currency'],
        [{ orderId, priceCents: 100, currency: 'euros' }, 'input.currency'],
        [{ orderId, priceCents: 100, currency: 'EUR', message: 'x'.repeat(2001) }, 'input.message'],
        [{ orderId: 'nope', priceCents: 100, currency: 'EUR' }, 'input.orderId'],
      ] as const) {
        const res = await run(op('SubmitOffer'), { input }, p2);
        assert.equal(code(res), 'BAD_USER_INPUT', JSON.stringify(input));
        assert.equal(res.errors![0]!.extensions!.field, field);
      }
      assert.equal(
        code(await run(op('SubmitOffer'), { input: { orderId: randomUUID(), priceCents: 100, currency: 'EUR' } }, p2)),
        'NOT_FOUND',
      );
      assert.equal(
        code(await run(op('SubmitOffer'), { input: { orderId, priceCents: 2 ** 31, currency: 'EUR' } }, p2)),
        'BAD_USER_INPUT',
      );
    });

    it('the customer sees every offer; a provider only their own', async () => {
      assert.equal((await offer(p2, orderId, 4500)).errors, undefined);
      const asCustomer = (await run(op('Order'), { id: orderId }, customer)).data!.order;
      assert.deepEqual(
        asCustomer.offers.map((o: { provider: { id: string } }) => o.provider.id).sort(),
        [p1.id, p2.id].sort(),
      );
      const asP1 = (await run(op('Order'), { id: orderId }, p1)).data!.order;
      assert.deepEqual(
        asP1.offers.map((o: { provider: { id: string } }) => o.provider.id),
        [p1.id],
      );
      assert.equal(asP1.customer.displayName, 'Cleo');
    });

    it("a provider finds their own offer among more than a page of others': visibility is applied before the page is taken", async () => {
      const crowded = (await createOrder(customer)).id;
      const own = (await offer(p2, crowded)).data!.submitOffer.id as string;
      // 120 offers by other providers, older than p2's, so that they fill the first 100 places.
      await t.sql(
        'order',
        `INSERT INTO offers (id, order_id, provider_id, price_cents, currency, created_at) SELECT gen_random_uuid(), $1, gen_random_uuid(), 1000, 'EUR', now() - interval '1 day' + i * interval '1 second' FROM generate_series(1, 120) i`,
        [crowded],
      );
      const offersOf = async (who: Session, first: number) =>
        (
          (
            await t.gql(
              `query($id: ID!, $first: Int) { order(id: $id) { offers(first: $first) { id } } }`,
              { id: crowded, first },
              { token: who.accessToken },
            )
          ).data!.order.offers as { id: string }[]
        ).map((o) => o.id);
      for (const first of [1, 20, 100]) assert.deepEqual(await offersOf(p2, first), [own], `first: ${first}`);
      const all = await offersOf(customer, 100);
      assert.equal(all.length, 100, 'the customer gets a full page');
      assert.ok(!all.includes(own), "p2's offer, the newest, is past the customer's first page");
    });

    it('a provider withdraws their own PENDING offer, once, and may offer again', async () => {
      const mine = (await run(op('MyOffers'), { first: 10 }, p2))
        .data!.me.offers.edges.map((e: { node: { id: string; order: { id: string } } }) => e.node)
        .find((o: { order: { id: string } }) => o.order.id === orderId);
      assert.equal(code(await run(op('WithdrawOffer'), { offerId: mine.id }, p1)), 'NOT_FOUND', "not someone else's");
      assert.deepEqual((await run(op('WithdrawOffer'), { offerId: mine.id }, p2)).data?.withdrawOffer, {
        id: mine.id,
        status: 'WITHDRAWN',
      });
      const again = await run(op('WithdrawOffer'), { offerId: mine.id }, p2);
      assert.equal(code(again), 'CONFLICT');
      assert.match(again.errors![0]!.message, /WITHDRAWN/);
      assert.equal((await offer(p2, orderId, 4000)).errors, undefined);
    });

    it('acceptOffer: the order, that offer and every other pending one change together', async () => {
      const order = (await run(op('Order'), { id: orderId }, customer)).data!.order;
      const p1Offer = order.offers.find((o: { provider: { id: string } }) => o.provider.id === p1.id);
      assert.equal(code(await run(op('AcceptOffer'), { offerId: p1Offer.id }, otherCustomer)), 'NOT_FOUND');
      assert.equal(
        code(await run(op('AcceptOffer'), { offerId: p1Offer.id }, p1)),
        'FORBIDDEN',
        'its provider knows the offer exists',
      );
      assert.equal(
        code(await run(op('AcceptOffer'), { offerId: p1Offer.id }, p2)),
        'FORBIDDEN',
        'a provider who may see the order',
      );
      const res = await run(op('AcceptOffer'), { offerId: p1Offer.id }, customer);
      assert.equal(res.errors, undefined);
      const accepted = res.data!.acceptOffer;
      assert.equal(accepted.status, 'ACCEPTED');
      assert.deepEqual(accepted.acceptedOffer, { id: p1Offer.id, status: 'ACCEPTED', provider: { id: p1.id } });
      const statuses = Object.fromEntries(accepted.offers.map((o: { id: string; status: string }) => [o.id, o.status]));
      assert.equal(statuses[p1Offer.id], 'ACCEPTED');
      assert.deepEqual(Object.values(statuses).sort(), ['ACCEPTED', 'REJECTED', 'WITHDRAWN']);
      const again = await run(op('AcceptOffer'), { offerId: p1Offer.id }, customer);
      assert.equal(code(again), 'CONFLICT');
      assert.match(again.errors![0]!.message, /ACCEPTED/);
      assert.equal(
        (await run(op('Order'), { id: orderId }, p1)).data?.order?.id,
        orderId,
        'the accepted provider still sees it',
      );
      assert.equal(code(await run(op('Order'), { id: orderId }, p2)), 'NOT_FOUND', 'others no longer do');
      const late = await offer(p2, orderId);
      assert.equal(code(late), 'CONFLICT');
      assert.match(late.errors![0]!.message, /ACCEPTED/);
    });

    it('completeOrder needs ACCEPTED; cancelOrder needs OPEN or ACCEPTED', async () => {
      const open = (await createOrder(customer)).id;
      const early = await run(op('CompleteOrder'), { orderId: open }, customer);
      assert.equal(code(early), 'CONFLICT');
      assert.match(early.errors![0]!.message, /OPEN/);
      assert.equal(code(await run(op('CompleteOrder'), { orderId }, otherCustomer)), 'NOT_FOUND');
      assert.deepEqual((await run(op('CompleteOrder'), { orderId }, customer)).data?.completeOrder, {
        id: orderId,
        status: 'COMPLETED',
      });
      assert.equal(code(await run(op('CancelOrder'), { orderId }, customer)), 'CONFLICT');
      assert.equal((await offer(p1, open)).errors, undefined);
      assert.deepEqual((await run(op('CancelOrder'), { orderId: open }, customer)).data?.cancelOrder, {
        id: open,
        status: 'CANCELLED',
      });
      const [row] = await t.sql('order', `SELECT status FROM offers WHERE order_id = $1`, [open]);
      assert.equal(row.status, 'REJECTED', 'pending offers of a cancelled order are rejected');
      const actions = (
        await t.sql(
          'order',
          `SELECT payload->>'action' AS action FROM outbox WHERE payload->>'targetId' IN ($1, $2) ORDER BY seq`,
          [orderId, open],
        )
      ).map((r) => r.action);
      assert.deepEqual(actions, ['order.created', 'order.created', 'order.completed', 'order.cancelled']);
    });
  });

  it('two racing acceptOffer calls: exactly one wins, the other gets CONFLICT', async () => {
    for (let round = 0; round < 5; round++) {
      const orderId = (await createOrder(customer)).id;
      const a = (await offer(p1, orderId, 1000)).data!.submitOffer.id;
      const b = (await offer(p2, orderId, 2000)).data!.submitOffer.id;
      const results = await Promise.all([
        run(op('AcceptOffer'), { offerId: a }, customer),
        run(op('AcceptOffer'), { offerId: b }, customer),
      ]);
      assert.equal(results.filter((r) => r.data?.acceptOffer?.status === 'ACCEPTED').length, 1, `round ${round}`);
      assert.equal(results.filter((r) => code(r) === 'CONFLICT').length, 1, `round ${round}`);
      const rows = await t.sql(
        'order',
        `SELECT status, count(*)::int AS n FROM offers WHERE order_id = $1 GROUP BY status ORDER BY status`,
        [orderId],
      );
      assert.deepEqual(rows, [
        { status: 'ACCEPTED', n: 1 },
        { status: 'REJECTED', n: 1 },
      ]);
    }
  });

  describe('lists', () => {
    it('MyOrders pages newest first with stable cursors while orders are added, and filters by status', async () => {
      const fresh = await t.register('CUSTOMER');
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await createOrder(fresh, leak, `order ${i}`)).id);
      const page1 = (await run(op('MyOrders'), { first: 2 }, fresh)).data!.me.orders;
      assert.deepEqual(
        page1.edges.map((e: { node: { id: string } }) => e.node.id),
        [made[4], made[3]],
      );
      assert.equal(page1.pageInfo.hasNextPage, true);
      made.push((await createOrder(fresh, leak, 'inserted meanwhile')).id);
      const page2 = (await run(op('MyOrders'), { first: 2, after: page1.pageInfo.endCursor }, fresh)).data!.me.orders;
      assert.deepEqual(
        page2.edges.map((e: { node: { id: string } }) => e.node.id),
        [made[2], made[1]],
      );
      const page3 = (await run(op('MyOrders'), { first: 2, after: page2.pageInfo.endCursor }, fresh)).data!.me.orders;
      assert.deepEqual(
        page3.edges.map((e: { node: { id: string } }) => e.node.id),
        [made[0]],
      );
      assert.equal(page3.pageInfo.hasNextPage, false);
      await run(op('CancelOrder'), { orderId: made[0] }, fresh);
      const cancelled = (await run(op('MyOrders'), { status: 'CANCELLED', first: 10 }, fresh)).data!.me.orders;
      assert.deepEqual(
        cancelled.edges.map((e: { node: { id: string } }) => e.node.id),
        [made[0]],
      );
      const tooMany = await run(op('MyOrders'), { first: 101 }, fresh);
      assert.equal(code(tooMany), 'BAD_USER_INPUT');
      assert.equal(tooMany.errors![0]!.extensions!.field, 'first');
      assert.equal(code(await run(op('MyOrders'), { first: 2, after: 'forged' }, fresh)), 'BAD_USER_INPUT');
    });

    it("MatchingOrders: OPEN orders for the provider's skills, newest first, never their own; providers only", async () => {
      const newest = (await createOrder(otherCustomer, leak, 'newest leak')).id;
      const boilerOrder = (await createOrder(otherCustomer, boiler, 'boiler')).id;
      const matching = (await run(op('MatchingOrders'), { first: 100 }, p1)).data!.me.matchingOrders.edges.map(
        (e: { node: { id: string; status: string; service: { id: string }; customer: { displayName: string } } }) =>
          e.node,
      );
      assert.ok(
        matching.every(
          (o: { status: string; service: { id: string } }) => o.status === 'OPEN' && o.service.id === leak,
        ),
      );
      assert.ok(matching.some((o: { id: string }) => o.id === newest));
      assert.ok(!matching.some((o: { id: string }) => o.id === boilerOrder));
      assert.ok(
        matching.length >= 2 &&
          matching.some((o: { customer: { displayName: string } }) => o.customer.displayName === 'Otto'),
      );
      assert.deepEqual((await run(op('MatchingOrders'), { first: 10 }, noSkill)).data!.me.matchingOrders.edges, []);
      const asCustomer = await run(op('MatchingOrders'), { first: 10 }, customer);
      assert.equal(code(asCustomer), 'FORBIDDEN');
      assert.equal(asCustomer.data?.me?.id, customer.id, 'the rest of the response survives');
      assert.equal(code(await run(op('MyOffers'), { first: 10 }, customer)), 'FORBIDDEN');
      // These start at the order subgraph's `me` (shareable with user's), the dashboard at both in parallel:
      // signed out, each is one UNAUTHENTICATED error.
      for (const name of ['MatchingOrders', 'MyOffers', 'MyOrders', 'CustomerDashboard']) {
        const anonymous = await run(op(name), { first: 10 });
        assert.equal(code(anonymous), 'UNAUTHENTICATED', name);
        assert.equal(anonymous.errors?.length, 1, `${name}: ${JSON.stringify(anonymous.errors)}`);
        assert.equal(anonymous.data?.me ?? null, null, name);
      }
    });
  });

  it("order keeps providers' skills on the catalog's feed, and a changed skill shows in MatchingOrders at once", async () => {
    const lookups = (outcome: string) => metricSample(t, 'order', 'fixup_order_skills_lookups_total', { outcome });
    // Order follows the catalog's feed from its start, and may have tried before catalog listened.
    await waitForMetric(t, 'order', 'fixup_order_catalog_feed_synced', 1);
    const boilerOrder = (await createOrder(otherCustomer, boiler, 'boiler, for the copy')).id;
    const matching = async () => {
      const res = await run(op('MatchingOrders'), { first: 100 }, p2);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data!.me.matchingOrders.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
    };
    await matching();
    const kept = await lookups('kept');
    assert.ok(!(await matching()).includes(boilerOrder));
    assert.ok((await lookups('kept')) > kept, "the provider's skills came from order's copy");
    const skill = async (mutation: 'addSkill' | 'removeSkill') =>
      assert.equal(
        (
          await t.gql(
            `mutation($s: ID!) { ${mutation}(serviceId: $s) { id } }`,
            { s: boiler },
            { token: p2.accessToken },
          )
        ).errors,
        undefined,
      );
    // The gateway answers a skill's change once its copy of the feed has it, and tells order how far that is.
    await skill('addSkill');
    assert.ok((await matching()).includes(boilerOrder), 'a new skill shows on the next request');
    await skill('removeSkill');
    assert.ok(!(await matching()).includes(boilerOrder), 'a removed one too');
  });

  it("keeps users' and services' names between requests, and shows a changed name at once", async () => {
    const order = await createOrder(otherCustomer, leak, 'Names kept by the gateway');
    const cached = (subgraph: string, result: 'hit' | 'miss') =>
      metricSample(t, 'gateway', 'fixup_gateway_entity_cache_lookups_total', { subgraph, result });
    const customerSeen = async () => {
      const res = await run(op('MatchingOrders'), { first: 100 }, p1);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const node = res.data!.me.matchingOrders.edges.find((e: any) => e.node.id === order.id).node;
      assert.equal(node.service.name, 'Leak repair');
      return node.customer.displayName as string;
    };
    assert.equal(await customerSeen(), 'Otto');
    const [userHits, catalogHits] = [await cached('user', 'hit'), await cached('catalog', 'hit')];
    assert.equal(await customerSeen(), 'Otto');
    assert.ok((await cached('user', 'hit')) > userHits, "the customer's name came from the gateway's cache");
    assert.ok((await cached('catalog', 'hit')) > catalogHits, "the service's name came from the gateway's cache");

    // The mutation answers once this gateway's copy of the user feed has the change: the next request sees it.
    const renamed = await t.gql(
      `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName } }`,
      { input: { displayName: 'Otto Renamed' } },
      { token: otherCustomer.accessToken },
    );
    assert.equal(renamed.errors, undefined, JSON.stringify(renamed.errors));
    assert.equal(await customerSeen(), 'Otto Renamed');
    const misses = await cached('user', 'miss');
    assert.equal(await customerSeen(), 'Otto Renamed');
    assert.equal(await cached('user', 'miss'), misses, 'the new name is kept in turn');
    await t.gql(
      `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }`,
      { input: { displayName: 'Otto' } },
      { token: otherCustomer.accessToken },
    );
    assert.equal(await customerSeen(), 'Otto');
  });

  it('CustomerDashboard costs the same SQL statements per subgraph with 5 orders and with 100', async () => {
    const big = await t.register('CUSTOMER', 'Bea');
    const providers = [p1, p2];
    for (let i = 0; i < 100; i++) {
      const orderId = randomUUID();
      await t.sql(
        'order',
        `INSERT INTO orders (id, customer_id, service_id, description, created_at) VALUES ($1, $2, $3, $4, now() - make_interval(secs => $5))`,
        [orderId, big.id, i % 2 ? leak : boiler, `order ${i}`, i],
      );
      for (const p of providers)
        await t.sql(
          'order',
          `INSERT INTO offers (id, order_id, provider_id, price_cents, currency) VALUES ($1, $2, $3, 1000, 'EUR')`,
          [randomUUID(), orderId, p.id],
        );
      await t.sql(
        'chat',
        `INSERT INTO conversations (id, order_id, customer_id, provider_id) VALUES ($1, $2, $3, $4)`,
        [randomUUID(), orderId, big.id, p1.id],
      );
    }
    const statements = async (first: number) => {
      const requestId = `dashboard-${first}-${randomUUID()}`;
      const res = await run(op('CustomerDashboard'), { first }, big, { 'x-request-id': requestId });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.equal(res.data!.me.orders.edges.length, first);
      const node = res.data!.me.orders.edges[0].node;
      assert.equal(node.offers.length, 2);
      assert.equal(node.conversations.length, 1);
      assert.ok(node.offers[0].provider.skills.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      const counts: Record<string, number> = {};
      for (const service of ['user', 'catalog', 'order', 'chat']) {
        counts[service] = readFileSync(join(t.stack.logDir, `${service}.log`), 'utf8')
          .split('\n')
          .filter((l) => l.includes(requestId))
          .map((l) => JSON.parse(l) as { msg: string; sqlStatements?: number })
          .filter((l) => l.msg === 'request')
          .reduce((sum, l) => sum + (l.sqlStatements ?? 0), 0);
      }
      return counts;
    };
    // The gateway keeps users' names, services with their categories and default pages of providers, and providers'
    // skills (gateway/entity-cache.ts): one request first, so that both counted requests find the same entities kept
    // and differ only in how many orders they read.
    await statements(100);
    const five = await statements(5);
    const hundred = await statements(100);
    assert.deepEqual(hundred, five);
    for (const service of ['user', 'order', 'chat']) assert.ok(five[service]! > 0, `${service} was asked`);
    assert.equal(five.catalog, 0, 'all of its part was kept');
  });
});
