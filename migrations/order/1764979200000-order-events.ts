import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee, pruneFunction } from '../../foundation/postgres/privileges.js';

/** ORDER_EVENTS_LOCK serializes writers of order_events so that their sequence numbers commit in order. */
const ORDER_EVENTS_LOCK = 0x6f72646576; // "ordev"

/**
 * OrderEvents1764979200000 adds the order subgraph's change feed (contracts/order-events.ts): `order_events`, one row
 * per change of an order's status or of the offer it accepted, written by a trigger on `orders`, a NOTIFY on
 * `order_events` after each insert so that every order instance serves it at once, and an index on created_at (events
 * found by age). A new order writes no event: no gateway kept anything of it yet. The runtime role may only add and
 * read events (UPDATE and DELETE, which default privileges give, are taken back, and TRUNCATE for good measure): a
 * gateway that follows the feed trusts that a sequence number, once read, names the same event for good. Old events
 * go only through `prune_order_events(keep_seconds)` (foundation/postgres/change-feed.ts, ORDER_FEED_KEEP_HOURS),
 * which keeps at least a day and always the newest event.
 */
export class OrderEvents1764979200000 implements MigrationInterface {
  name = 'OrderEvents1764979200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE order_events (
        seq bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('order')),
        order_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX order_events_created_idx ON order_events (created_at)`);
    await db.query(`
      CREATE FUNCTION order_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('order_events', NEW.seq::text);
        RETURN NEW;
      END
      $$`);
    await db.query(
      `CREATE TRIGGER order_events_notify AFTER INSERT ON order_events FOR EACH ROW EXECUTE FUNCTION order_events_notify()`,
    );
    await db.query(forEachGrantee(['order_events'], 'REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
    for (const statement of pruneFunction('order_events')) await db.query(statement);
    // Every change of an order's status or accepted offer writes its event in the same statement, whoever writes it
    // (the subgraph, a script, an operator by hand): no write can skip the feed. The trigger is not limited to `UPDATE
    // OF status, accepted_offer_id`, which a BEFORE trigger's change of the row would escape; its WHEN compares the
    // values instead, so that an update that changes neither writes nothing. The lock ("ordev"), held until commit,
    // makes events commit in sequence order, which the feed relies on (foundation/postgres/change-feed.ts).
    await db.query(`
      CREATE FUNCTION orders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(${ORDER_EVENTS_LOCK});
        INSERT INTO order_events (kind, order_id) VALUES ('order', NEW.id);
        RETURN NULL;
      END
      $$`);
    await db.query(`
      CREATE TRIGGER orders_changed AFTER UPDATE ON orders FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.accepted_offer_id IS DISTINCT FROM NEW.accepted_offer_id)
      EXECUTE FUNCTION orders_changed()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER orders_changed ON orders`);
    await db.query(`DROP FUNCTION orders_changed()`);
    await db.query(`DROP FUNCTION prune_order_events(integer)`);
    await db.query(`DROP TABLE order_events`);
    await db.query(`DROP FUNCTION order_events_notify()`);
  }
}
