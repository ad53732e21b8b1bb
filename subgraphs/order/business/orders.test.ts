import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Role, SignedInCaller } from '../../../contracts/caller.js';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { orderMigrations } from '../../../migrations/order/index.js';
import { OfferRow, OrderRow } from '../store/entities.js';
import { PostgresOrderStore } from '../store/order-store.js';
import {
  moveOffer,
  moveOrder,
  ORDER_MOVES,
  OrderService,
  type CatalogFacts,
  type Offer,
  type Order,
  type OrderStatus,
} from './orders.js';

const SERVICE = randomUUID();
const OTHER_SERVICE = randomUUID();

/** FixedCatalog stands for the catalog subgraph's answers: every provider here has SERVICE as a skill. */
class FixedCatalog implements CatalogFacts {
  /** asked records each look-up of skills: whether it asked catalog itself (fresh) or allowed a kept copy. */
  readonly asked: ('fresh' | 'kept-allowed')[] = [];
  async skillsOf(_providerId: string, _caller: unknown, options?: { fresh?: boolean }): Promise<readonly string[]> {
    this.asked.push(options?.fresh ? 'fresh' : 'kept-allowed');
    return [SERVICE];
  }
  async serviceExists(serviceId: string): Promise<boolean> {
    return serviceId === SERVICE || serviceId === OTHER_SERVICE;
  }
}

function caller(roles: Role[], id = randomUUID()): SignedInCaller {
  return { viewer: { id, roles, sessionId: null }, ip: '192.0.2.1', userAgent: 'test', requestId: randomUUID() };
}

describe('order workflow on a real database', () => {
  let db: TestDatabase;
  let orders: OrderService;
  let catalog: FixedCatalog;
  /** published counts the feed's publications, each made before its mutation answered. */
  let published = 0;

  before(async () => {
    db = await createTestDatabase('order', [OrderRow, OfferRow], orderMigrations);
    // The feed's events are store/order-feed.test.ts's: here a feed that counts its publications.
    orders = new OrderService(new PostgresOrderStore(db.dataSource), (catalog = new FixedCatalog()), {
      publish: async () => void published++,
    });
  });
  after(() => db.drop());

  it('allows exactly the moves of the state machine', () => {
    const all: OrderStatus[] = ['OPEN', 'ACCEPTED', 'COMPLETED', 'CANCELLED'];
    for (const from of all) {
      for (const to of all) {
        const order = { status: from } as Order;
        if (ORDER_MOVES[from].includes(to)) assert.equal(moveOrder(order, to), to);
        else
          assert.throws(
            () => moveOrder(order, to),
            (err: Error & { code: string }) => err.code === 'CONFLICT' && err.message.includes(from),
          );
      }
    }
    assert.throws(() => moveOffer({ status: 'REJECTED' } as Offer, 'ACCEPTED'), /REJECTED/);
  });

  it('runs the whole workflow and records each step in the outbox', async () => {
    const customer = caller(['CUSTOMER']);
    const provider = caller(['PROVIDER']);
    const order = await orders.createOrder({ serviceId: SERVICE, description: 'Fix the sink' }, customer);
    const offer = await orders.submitOffer(
      { orderId: order.id, priceCents: 9900, currency: 'eur', message: null },
      provider,
    );
    assert.equal(offer.currency, 'EUR');
    assert.equal(catalog.asked.at(-1), 'fresh', "a write's check of the provider's skills asks catalog itself");
    catalog.asked.length = 0;
    await orders.matchingOrders(provider, 10, undefined);
    assert.deepEqual(catalog.asked, ['kept-allowed'], 'a read may be answered from a kept copy');
    assert.equal(published, 0, 'a new order or offer changes no status: nothing to publish');
    const accepted = await orders.acceptOffer(offer.id, customer);
    assert.equal(accepted.status, 'ACCEPTED');
    assert.equal(accepted.acceptedOfferId, offer.id);
    assert.equal(published, 1, 'acceptOffer published the order feed before answering');
    assert.equal((await orders.completeOrder(order.id, customer)).status, 'COMPLETED');
    assert.equal(published, 2, 'so did completeOrder');
    const other = await orders.createOrder({ serviceId: SERVICE, description: 'Never mind' }, customer);
    await orders.cancelOrder(other.id, customer);
    assert.equal(published, 3, 'and cancelOrder');
    const actions = await db.dataSource.query(
      `SELECT payload->>'action' AS a, payload->>'ip' AS ip FROM outbox ORDER BY seq`,
    );
    assert.deepEqual(
      actions.map((r: { a: string }) => r.a),
      ['order.created', 'offer.submitted', 'offer.accepted', 'order.completed', 'order.created', 'order.cancelled'],
    );
    assert.ok(actions.every((r: { ip: string }) => r.ip === '192.0.2.1'));
  });

  it('of many racing accepts on one order exactly one wins', async () => {
    const customer = caller(['CUSTOMER']);
    const order = await orders.createOrder({ serviceId: SERVICE, description: 'Race' }, customer);
    const offers: Offer[] = [];
    for (let i = 0; i < 4; i++)
      offers.push(
        await orders.submitOffer(
          { orderId: order.id, priceCents: 1000 + i, currency: 'EUR', message: null },
          caller(['PROVIDER']),
        ),
      );
    const outcomes = await Promise.allSettled(offers.map((o) => orders.acceptOffer(o.id, customer)));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    for (const o of outcomes.filter((o) => o.status === 'rejected'))
      assert.equal((o as PromiseRejectedResult).reason.code, 'CONFLICT');
    const rows = await db.dataSource.query(
      `SELECT status, count(*)::int AS n FROM offers WHERE order_id = $1 GROUP BY status ORDER BY status`,
      [order.id],
    );
    assert.deepEqual(rows, [
      { status: 'ACCEPTED', n: 1 },
      { status: 'REJECTED', n: 3 },
    ]);
  });

  it('a failed step writes nothing: no half-accepted order, no event', async () => {
    const customer = caller(['CUSTOMER']);
    const order = await orders.createOrder({ serviceId: SERVICE, description: 'Half' }, customer);
    const offer = await orders.submitOffer(
      { orderId: order.id, priceCents: 500, currency: 'EUR', message: null },
      caller(['PROVIDER']),
    );
    await orders.cancelOrder(order.id, customer);
    const events = async () => (await db.dataSource.query(`SELECT count(*)::int AS n FROM outbox`))[0].n;
    const before = await events();
    await assert.rejects(orders.acceptOffer(offer.id, customer), { code: 'CONFLICT' });
    assert.equal(await events(), before);
    assert.equal((await orders.ordersByIds([order.id]))[0]!.status, 'CANCELLED');
  });

  it('the database refuses what the rules forbid, even without the business layer', async () => {
    const customer = caller(['CUSTOMER']);
    const order = await orders.createOrder({ serviceId: SERVICE, description: 'Db rules' }, customer);
    const provider = randomUUID();
    const insert = (status: string, price = 100, currency = 'EUR') =>
      db.dataSource.query(
        `INSERT INTO offers (id, order_id, provider_id, price_cents, currency, status) VALUES ($1, $2, $3, $4, $5, $6)`,
        [randomUUID(), order.id, provider, price, currency, status],
      );
    await insert('PENDING');
    await assert.rejects(insert('PENDING'), /offers_one_pending_key/);
    await assert.rejects(insert('MAYBE'), /check/);
    await assert.rejects(insert('WITHDRAWN', -5), /check/);
    await assert.rejects(insert('WITHDRAWN', 100, 'eu'), /check/);
    await assert.rejects(
      db.dataSource.query(`UPDATE orders SET status = 'ACCEPTED' WHERE id = $1`, [order.id]),
      /orders_accepted_has_offer/,
    );
  });

  it('a provider cannot offer on their own order, nor on one outside their skills', async () => {
    const both = caller(['CUSTOMER', 'PROVIDER']);
    const own = await orders.createOrder({ serviceId: SERVICE, description: 'Mine' }, both);
    await assert.rejects(
      orders.submitOffer({ orderId: own.id, priceCents: 100, currency: 'EUR', message: null }, both),
      { code: 'FORBIDDEN' },
    );
    const elsewhere = await orders.createOrder(
      { serviceId: OTHER_SERVICE, description: 'Other skill' },
      caller(['CUSTOMER']),
    );
    await assert.rejects(
      orders.submitOffer(
        { orderId: elsewhere.id, priceCents: 100, currency: 'EUR', message: null },
        caller(['PROVIDER']),
      ),
      { code: 'NOT_FOUND' },
    );
  });

  it('open orders for a set of services come newest first across services, page by page, never the excluded ones', async () => {
    const services = [randomUUID(), randomUUID(), randomUUID()];
    const me = randomUUID();
    const values: string[] = [];
    const params: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      const status = i % 7 === 0 ? 'CANCELLED' : 'OPEN';
      const customer = i % 11 === 0 ? me : randomUUID();
      // Service 0 is popular, the others rare; equal times on some rows test the tie on id.
      const service = services[i % 5 === 0 ? 1 + (i % 2) : 0]!;
      params.push(randomUUID(), customer, service, status, Math.floor(i / 2));
      const k = params.length;
      values.push(`($${k - 4}, $${k - 3}, $${k - 2}, 'x', $${k - 1}, now() - make_interval(secs => $${k}))`);
    }
    await db.dataSource.query(
      `INSERT INTO orders (id, customer_id, service_id, description, status, created_at) VALUES ${values.join(', ')}`,
      params,
    );
    const expected = (
      await db.dataSource.query(
        `SELECT id FROM orders WHERE status = 'OPEN' AND service_id = ANY($1) AND customer_id <> $2
         ORDER BY created_at DESC, id DESC`,
        [services, me],
      )
    ).map((r: { id: string }) => r.id);
    assert.ok(expected.length > 30);
    const store = new PostgresOrderStore(db.dataSource);
    const seen: string[] = [];
    let after: { createdAt: Date; id: string } | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const rows = await store.openOrdersForServices([...services, services[0]!], me, 7, after);
      assert.ok(rows.length <= 8, 'at most a page and one more');
      seen.push(...rows.slice(0, 7).map((o) => o.id));
      if (rows.length <= 7) break;
      const last = rows[6]!;
      after = { createdAt: last.createdAt, id: last.id };
    }
    assert.deepEqual(seen, expected);
    assert.deepEqual(await store.openOrdersForServices([], me, 7, undefined), []);
  });

  it("a customer's orders and a provider's offers come newest first, page by page, by status too, ties broken by id", async () => {
    const customer = randomUUID();
    const provider = randomUUID();
    const values: string[] = [];
    const params: unknown[] = [];
    for (let i = 0; i < 23; i++) {
      // Pairs of equal times test the tie on id.
      params.push(randomUUID(), customer, SERVICE, i % 3 === 0 ? 'CANCELLED' : 'OPEN', Math.floor(i / 2));
      const k = params.length;
      values.push(`($${k - 4}, $${k - 3}, $${k - 2}, 'x', $${k - 1}, now() - make_interval(secs => $${k}))`);
    }
    const made: { id: string }[] = await db.dataSource.query(
      `INSERT INTO orders (id, customer_id, service_id, description, status, created_at) VALUES ${values.join(', ')} RETURNING id`,
      params,
    );
    await db.dataSource.query(
      `INSERT INTO offers (id, order_id, provider_id, price_cents, currency, created_at)
       SELECT gen_random_uuid(), id, $1, 1000, 'EUR', created_at FROM orders WHERE id = ANY($2::uuid[])`,
      [provider, made.map((o) => o.id)],
    );
    const store = new PostgresOrderStore(db.dataSource);
    const newest = async (sql: string, args: unknown[]) =>
      ((await db.dataSource.query(`${sql} ORDER BY created_at DESC, id DESC`, args)) as { id: string }[]).map(
        (r) => r.id,
      );
    const pages = async (
      read: (after: { createdAt: Date; id: string } | undefined) => Promise<{ id: string; createdAt: Date }[]>,
    ) => {
      const seen: string[] = [];
      let after: { createdAt: Date; id: string } | undefined;
      for (let n = 0; n < 20; n++) {
        const rows = await read(after);
        assert.ok(rows.length <= 5, 'at most a page and one more');
        seen.push(...rows.slice(0, 4).map((r) => r.id));
        if (rows.length <= 4) break;
        after = { createdAt: rows[3]!.createdAt, id: rows[3]!.id };
      }
      return seen;
    };
    assert.deepEqual(
      await pages((after) => store.ordersOfCustomer(customer, undefined, 4, after)),
      await newest(`SELECT id FROM orders WHERE customer_id = $1`, [customer]),
    );
    assert.deepEqual(
      await pages((after) => store.ordersOfCustomer(customer, 'CANCELLED', 4, after)),
      await newest(`SELECT id FROM orders WHERE customer_id = $1 AND status = 'CANCELLED'`, [customer]),
    );
    assert.deepEqual(
      await pages((after) => store.offersOfProvider(provider, 4, after)),
      await newest(`SELECT id FROM offers WHERE provider_id = $1`, [provider]),
    );
  });

  it("each order's first offers, of everyone's or one provider's, come oldest first as the plain statement gives them", async () => {
    const orders = [randomUUID(), randomUUID(), randomUUID()];
    const busy = randomUUID();
    await db.dataSource.query(
      `INSERT INTO orders (id, customer_id, service_id, description) SELECT o, gen_random_uuid(), $2, 'x' FROM unnest($1::uuid[]) o`,
      [orders, SERVICE],
    );
    // Seven offers on the first order, two on the second, none on the third; the busy provider on both, withdrawn
    // ones included; some at the same time, so that the tie on id counts.
    await db.dataSource.query(
      `INSERT INTO offers (id, order_id, provider_id, price_cents, currency, status, created_at)
       SELECT gen_random_uuid(), $1::uuid, CASE WHEN i % 3 = 0 THEN $3::uuid ELSE gen_random_uuid() END, 100 + i, 'EUR',
              CASE WHEN i % 3 = 0 AND i > 0 THEN 'WITHDRAWN' ELSE 'PENDING' END, now() - make_interval(secs => i / 2)
         FROM generate_series(0, 6) i
       UNION ALL
       SELECT gen_random_uuid(), $2::uuid, CASE WHEN i = 0 THEN $3::uuid ELSE gen_random_uuid() END, 200 + i, 'EUR', 'PENDING', now()
         FROM generate_series(0, 1) i`,
      [orders[0], orders[1], busy],
    );
    const plain = async (providerId?: string) =>
      (await db.dataSource.query(
        `SELECT id, order_id FROM offers WHERE order_id = ANY($1) ${providerId ? 'AND provider_id = $2' : ''}
           ORDER BY created_at, id`,
        providerId ? [orders, providerId] : [orders],
      )) as { id: string; order_id: string }[];
    const firstOfEach = (rows: { id: string; order_id: string }[], n: number) =>
      rows.filter((r, i) => rows.slice(0, i).filter((o) => o.order_id === r.order_id).length < n).map((r) => r.id);
    const store = new PostgresOrderStore(db.dataSource);
    const ids = (offers: Offer[]) => offers.map((o) => o.id);
    assert.deepEqual(ids(await store.offersOfOrders([...orders, orders[0]!], 4)), firstOfEach(await plain(), 4));
    assert.deepEqual(ids(await store.offersOfOrders(orders, 2, busy)), firstOfEach(await plain(busy), 2));
    assert.equal((await store.offersOfOrders(orders, 100)).length, 9);
    // The second order's two offers share a time: the first is the one with the smaller id; the columns map back.
    const [one] = await store.offersOfOrders([orders[1]!], 1);
    assert.equal(
      one!.id,
      firstOfEach(
        (await plain()).filter((r) => r.order_id === orders[1]),
        1,
      )[0],
    );
    assert.ok([200, 201].includes(one!.priceCents));
    assert.deepEqual([one!.orderId, one!.currency, one!.status], [orders[1], 'EUR', 'PENDING']);
  });
});
