import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CreateOrders1732300000000 creates orders; the status check backs the workflow's states. */
export class CreateOrders1732300000000 implements MigrationInterface {
  name = 'CreateOrders1732300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE orders (
        id uuid PRIMARY KEY,
        customer_id uuid NOT NULL,
        service_id uuid NOT NULL,
        description text NOT NULL CHECK (length(btrim(description)) BETWEEN 1 AND 4000),
        status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'ACCEPTED', 'COMPLETED', 'CANCELLED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC)`);
    await db.query(
      `CREATE INDEX orders_open_service_idx ON orders (service_id, created_at DESC, id DESC) WHERE status = 'OPEN'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE orders`);
  }
}
