import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTable } from '../../foundation/events/outbox.js';

/**
 * Messages1732400000000 adds messages, each with a per-conversation position
 * taken under the conversation's row lock, so the order within a conversation
 * never goes backwards; a NOTIFY after commit wakes every chat process's
 * subscribers (ids only: the message is read from the table).
 */
export class Messages1732400000000 implements MigrationInterface {
  name = 'Messages1732400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE conversations ADD COLUMN last_position bigint NOT NULL DEFAULT 0`);
    await db.query(`ALTER TABLE conversations ALTER COLUMN created_at TYPE timestamptz(3)`);
    await db.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        conversation_id uuid NOT NULL REFERENCES conversations (id),
        position bigint NOT NULL,
        sender_id uuid NOT NULL,
        body text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 4000),
        sent_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT messages_position_key UNIQUE (conversation_id, position)
      )`);
    await db.query(`
      CREATE FUNCTION messages_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('chat_messages', NEW.conversation_id::text || ':' || NEW.position::text);
        RETURN NEW;
      END
      $$`);
    await db.query(
      `CREATE TRIGGER messages_notify AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION messages_notify()`,
    );
    await createOutboxTable(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox, messages`);
    await db.query(`DROP FUNCTION messages_notify()`);
    await db.query(`ALTER TABLE conversations DROP COLUMN last_position`);
  }
}
