import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Role, SignedInCaller } from '../../../contracts/caller.js';
import { ORDER_SEQ_HEADER, type OrderFeedEvent } from '../../../contracts/order-events.js';
import { adminUrlOf, createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { checkFeedTableRights } from '../../../foundation/testkit/feed-tables.js';
import { createLogger } from '../../../foundation/telemetry/logger.js';
import { orderMigrations } from '../../../migrations/order/index.js';
import { OrderService, type CatalogFacts } from '../business/orders.js';
import { OfferRow, OrderRow } from './entities.js';
import { PostgresOrderFeed } from './order-feed.js';
import { PostgresOrderStore } from './order-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SERVICE = randomUUID();

/** FixedCatalog stands for the catalog subgraph's answers: SERVICE exists, and every provider has it as a skill. */
const catalogFacts: CatalogFacts = {
  skillsOf: async () => [SERVICE],
  serviceExists: async (serviceId) => serviceId === SERVICE,
};

function caller(roles: Role[]): SignedInCaller {
  return {
    viewer: { id: randomUUID(), roles, sessionId: null },
    ip: '192.0.2.1',
    userAgent: 'test',
    requestId: randomUUID(),
  };
}

// The feed's behaviour (replay, listener loss, publishing) is PostgresChangeFeed's, tested in
// foundation/postgres/change-feed.test.ts; this is what the order subgraph writes to it, and when.
describe('the order feed (real PostgreSQL)', () => {
  let db: TestDatabase;
  let feed: PostgresOrderFeed;
  let orders: OrderService;
  const received: OrderFeedEvent[] = [];

  /** eventsOf reads the feed's table for an order. */
  const eventsOf = async (orderId: string): Promise<{ seq: string; kind: string }[]> =>
    db.dataSource.query(`SELECT seq, kind FROM order_events WHERE order_id = $1 ORDER BY seq`, [orderId]);

  /** openOrder is a new order of a new customer, with one pending offer of a new provider. */
  const openOrder = async () => {
    const [customer, provider] = [caller(['CUSTOMER']), caller(['PROVIDER'])];
    const order = await orders.createOrder({ serviceId: SERVICE, description: 'Fix the sink' }, customer);
    const offer = await orders.submitOffer(
      { orderId: order.id, priceCents: 9900, currency: 'EUR', message: null },
      provider,
    );
    return { customer, provider, order, offer };
  };

  before(async () => {
    db = await createTestDatabase('orderfeed', [OrderRow, OfferRow], orderMigrations);
    feed = new PostgresOrderFeed(
      db.dataSource,
      db.url,
      7 * 24 * 3600,
      createLogger({ service: 'test', level: 'silent' }),
    );
    await feed.start();
    orders = new OrderService(new PostgresOrderStore(db.dataSource), catalogFacts, feed);
    await feed.subscribe({ send: (e) => received.push(e), end: () => {} }, null);
  });
  after(async () => {
    await feed?.close();
    await db?.drop();
  });

  it("writes one order event per change of an order's status, none for a new order or an offer, and publishes it before answering", async () => {
    assert.deepEqual(feed.answerHeaders('mutation'), {}, 'no event yet: no sequence to name');
    const { customer, order, offer } = await openOrder();
    assert.deepEqual(await eventsOf(order.id), [], 'a new order and its offer write nothing');
    assert.equal(received.length, 0);

    await orders.acceptOffer(offer.id, customer);
    let events = await eventsOf(order.id);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['order'],
      'its status and accepted offer, changed in one statement: one event',
    );
    // Published by the time acceptOffer returned: no waiting for the notification.
    assert.deepEqual(
      received.map(({ seq, kind, orderId }) => ({ seq, kind, orderId })),
      [{ seq: Number(events[0]!.seq), kind: 'order', orderId: order.id }],
    );
    assert.ok(!Number.isNaN(Date.parse(received[0]!.at)));
    const named = Number(feed.answerHeaders('mutation')[ORDER_SEQ_HEADER]);
    assert.ok(named >= Number(events[0]!.seq), "a mutation's answer names a sequence at or past its event");
    assert.deepEqual(feed.answerHeaders('query'), {});

    await orders.completeOrder(order.id, customer);
    events = await eventsOf(order.id);
    assert.equal(events.length, 2);
    assert.equal(received.at(-1)!.seq, Number(events[1]!.seq));
    await assert.rejects(orders.cancelOrder(order.id, customer), { code: 'CONFLICT' });
    assert.equal((await eventsOf(order.id)).length, 2, 'a refused move writes nothing');

    const other = await openOrder();
    await orders.cancelOrder(other.order.id, other.customer);
    const cancelled = await eventsOf(other.order.id);
    assert.equal(cancelled.length, 1);
    assert.equal(received.at(-1)!.seq, Number(cancelled[0]!.seq));
    await assert.rejects(orders.acceptOffer(other.offer.id, other.customer), { code: 'CONFLICT' });
    assert.equal((await eventsOf(other.order.id)).length, 1);
    assert.equal(received.length, 3);
  });

  it('writes nothing when an offer is withdrawn: the order did not change', async () => {
    const { provider, order, offer } = await openOrder();
    await orders.withdrawOffer(offer.id, provider);
    assert.deepEqual(await eventsOf(order.id), []);
  });

  it("delivers another instance's events through LISTEN/NOTIFY", async () => {
    const { customer, order, offer } = await openOrder();
    const before = received.length;
    // Another order instance: its own store, its publish reaching only its own followers.
    const other = new OrderService(new PostgresOrderStore(db.dataSource), catalogFacts, { publish: async () => {} });
    await other.acceptOffer(offer.id, customer);
    for (let i = 0; i < 100 && received.length === before; i++) await sleep(20);
    assert.deepEqual(
      received.slice(before).map((e) => e.orderId),
      [order.id],
    );
  });

  it("changes no order's status when its event cannot be written", async () => {
    const { customer, order } = await openOrder();
    const admin = new pg.Client({ connectionString: adminUrlOf(db) });
    await admin.connect();
    try {
      // A constraint that refuses this order's events, as any failure of the event's insert would.
      await admin.query(
        `ALTER TABLE order_events ADD CONSTRAINT refuse_test CHECK (order_id <> '${order.id}'::uuid) NOT VALID`,
      );
      try {
        await assert.rejects(orders.cancelOrder(order.id, customer), /refuse_test/);
      } finally {
        await admin.query(`ALTER TABLE order_events DROP CONSTRAINT refuse_test`);
      }
    } finally {
      await admin.end();
    }
    assert.equal((await orders.ordersByIds([order.id]))[0]!.status, 'OPEN', 'the order rolled back with its event');
    assert.deepEqual(await eventsOf(order.id), []);
  });

  it('writes the event of any change of status or accepted offer, by hand too, in its statement, and none of other writes', async () => {
    const [one, two] = [randomUUID(), randomUUID()];
    await db.dataSource.query(
      `INSERT INTO orders (id, customer_id, service_id, description) VALUES ($1, $3, $4, 'one'), ($2, $3, $4, 'two')`,
      [one, two, randomUUID(), SERVICE],
    );
    const byHand = async (): Promise<string[]> =>
      (
        (await db.dataSource.query(`SELECT order_id FROM order_events WHERE order_id = ANY($1::uuid[]) ORDER BY seq`, [
          [one, two],
        ])) as { order_id: string }[]
      ).map((e) => (e.order_id === one ? 'one' : 'two'));
    assert.deepEqual(await byHand(), [], 'an insert writes nothing');
    await db.dataSource.query(`UPDATE orders SET updated_at = now() WHERE id = $1`, [one]);
    await db.dataSource.query(`UPDATE orders SET status = status, accepted_offer_id = accepted_offer_id`);
    assert.deepEqual(await byHand(), [], 'an update that changes neither status nor accepted offer writes nothing');
    await db.dataSource.query(`UPDATE orders SET status = 'CANCELLED' WHERE id = ANY($1::uuid[])`, [[one, two]]);
    assert.deepEqual((await byHand()).sort(), ['one', 'two'], 'one event per order whose status changed');

    // The accepted offer alone: a cancelled order's may be set or cleared (orders_accepted_has_offer).
    const { order, offer } = await openOrder();
    await db.dataSource.query(`UPDATE orders SET status = 'CANCELLED' WHERE id = $1`, [order.id]);
    await db.dataSource.query(`UPDATE orders SET accepted_offer_id = $2 WHERE id = $1`, [order.id, offer.id]);
    await db.dataSource.query(`UPDATE orders SET accepted_offer_id = $2 WHERE id = $1`, [order.id, offer.id]);
    await db.dataSource.query(`UPDATE orders SET accepted_offer_id = NULL WHERE id = $1`, [order.id]);
    assert.equal((await eventsOf(order.id)).length, 3, 'the status, then the accepted offer set and cleared');
  });

  it('lets the runtime role change nothing of an order or an offer but their status, and remove neither', async () => {
    const { order, offer } = await openOrder();
    for (const statement of [
      `UPDATE orders SET customer_id = gen_random_uuid() WHERE id = $1`,
      `UPDATE orders SET service_id = gen_random_uuid() WHERE id = $1`,
      `UPDATE orders SET description = 'changed' WHERE id = $1`,
      `DELETE FROM orders WHERE id = $1`,
    ])
      await assert.rejects(db.dataSource.query(statement, [order.id]), /permission denied/, statement);
    for (const statement of [
      `UPDATE offers SET provider_id = gen_random_uuid() WHERE id = $1`,
      `UPDATE offers SET order_id = gen_random_uuid() WHERE id = $1`,
      `DELETE FROM offers WHERE id = $1`,
    ])
      await assert.rejects(db.dataSource.query(statement, [offer.id]), /permission denied/, statement);
    for (const table of ['orders', 'offers'])
      await assert.rejects(db.dataSource.query(`TRUNCATE ${table} CASCADE`), /permission denied/, table);
  });

  it('lets the runtime role add and read events, never change or remove them but through the pruning function', () =>
    checkFeedTableRights(db, 'order_events', 'kind', () => feed.prune()));
});
