import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee } from '../../foundation/postgres/privileges.js';

/**
 * ConversationsNeverChange1764979200000 leaves every role but the owner (who runs the migrations) SELECT and INSERT on
 * conversations and UPDATE of `last_position` alone, whatever default privileges gave them: a conversation's order,
 * customer and provider never change once it is made, nor is it removed, so the chat subgraph may keep the
 * conversations it has read (PostgresChatStore), and sending a message reads none.
 */
export class ConversationsNeverChange1764979200000 implements MigrationInterface {
  name = 'ConversationsNeverChange1764979200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(forEachGrantee(['conversations'], 'REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
    await db.query(forEachGrantee(['conversations'], 'GRANT UPDATE (last_position) ON %I TO %s', false));
  }

  async down(db: QueryRunner): Promise<void> {
    // The schema's default privileges reach new tables only: give this table's grantees back what the defaults give.
    await db.query(forEachGrantee(['conversations'], 'REVOKE UPDATE (last_position) ON %I FROM %s', false));
    await db.query(forEachGrantee(['conversations'], 'GRANT UPDATE, DELETE ON %I TO %s', false));
  }
}
