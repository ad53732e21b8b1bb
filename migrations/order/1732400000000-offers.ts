import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTable } from '../../foundation/events/outbox.js';

/**
 * Offers1732400000000 adds offers and lets the database back the workflow:
 * status checks, money as integer cents with an ISO currency code, one
 * PENDING offer per provider per order and one ACCEPTED offer per order
 * (partial unique indexes), and times with millisecond precision for cursors.
 */
export class Offers1732400000000 implements MigrationInterface {
  name = 'Offers1732400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE orders ALTER COLUMN created_at TYPE timestamptz(3)`);
    await db.query(`ALTER TABLE orders ADD COLUMN accepted_offer_id uuid`);
    await db.query(`
      CREATE TABLE offers (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id),
        provider_id uuid NOT NULL,
        price_cents integer NOT NULL CHECK (price_cents BETWEEN 1 AND 100000000),
        currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        message text CHECK (length(message) <= 2000),
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'WITHDRAWN')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE UNIQUE INDEX offers_one_pending_key ON offers (order_id, provider_id) WHERE status = 'PENDING'`,
    );
    await db.query(`CREATE UNIQUE INDEX offers_one_accepted_key ON offers (order_id) WHERE status = 'ACCEPTED'`);
    await db.query(`CREATE INDEX offers_order_idx ON offers (order_id, created_at)`);
    await db.query(`CREATE INDEX offers_provider_idx ON offers (provider_id, created_at DESC, id DESC)`);
    await db.query(
      `ALTER TABLE orders ADD CONSTRAINT orders_accepted_offer_fkey FOREIGN KEY (accepted_offer_id) REFERENCES offers (id)`,
    );
    await db.query(
      `ALTER TABLE orders ADD CONSTRAINT orders_accepted_has_offer CHECK ((status IN ('ACCEPTED', 'COMPLETED')) = (accepted_offer_id IS NOT NULL) OR status = 'CANCELLED')`,
    );
    await db.query(`DROP INDEX orders_customer_idx`);
    await db.query(`CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX orders_customer_status_idx ON orders (customer_id, status, created_at DESC, id DESC)`);
    await createOutboxTable(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox`);
    await db.query(`DROP INDEX orders_customer_status_idx`);
    await db.query(
      `ALTER TABLE orders DROP CONSTRAINT orders_accepted_has_offer, DROP CONSTRAINT orders_accepted_offer_fkey`,
    );
    await db.query(`DROP TABLE offers`);
    await db.query(`ALTER TABLE orders DROP COLUMN accepted_offer_id`);
    await db.query(`ALTER TABLE orders ALTER COLUMN created_at TYPE timestamptz`);
  }
}
