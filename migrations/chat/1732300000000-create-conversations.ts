import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CreateConversations1732300000000 creates conversations: one per order and provider. */
export class CreateConversations1732300000000 implements MigrationInterface {
  name = 'CreateConversations1732300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL,
        customer_id uuid NOT NULL,
        provider_id uuid NOT NULL CHECK (provider_id <> customer_id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT conversations_order_provider_key UNIQUE (order_id, provider_id)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE conversations`);
  }
}
