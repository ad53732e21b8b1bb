import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MessageAnnouncements1732500000000 adds the messages still to be announced
 * to the other chat processes when the broker is NATS: a row is written in
 * the message's own transaction and removed once the announcement is
 * published, so a process that dies between its commit and its publication
 * leaves the row for another process to publish.
 */
export class MessageAnnouncements1732500000000 implements MigrationInterface {
  name = 'MessageAnnouncements1732500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE message_announcements (
        conversation_id uuid NOT NULL,
        position bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, position)
      )`);
    await db.query(`CREATE INDEX message_announcements_created_idx ON message_announcements (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE message_announcements`);
  }
}
