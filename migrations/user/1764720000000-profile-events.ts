import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ProfileEvents1764720000000 lets the session feed say that a user's shared fields (display name, avatar) changed:
 * the gateways keep those fields (gateway/entity-cache.ts) and drop them on a `profile` event.
 */
export class ProfileEvents1764720000000 implements MigrationInterface {
  name = 'ProfileEvents1764720000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE session_events DROP CONSTRAINT session_events_kind_check, DROP CONSTRAINT session_events_check`,
    );
    await db.query(`
      ALTER TABLE session_events
        ADD CONSTRAINT session_events_kind_check CHECK (kind IN ('user', 'session', 'profile')),
        ADD CONSTRAINT session_events_check CHECK (
          (kind = 'user' AND token_version IS NOT NULL) OR (kind = 'session' AND session_id IS NOT NULL) OR kind = 'profile'
        )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM session_events WHERE kind = 'profile'`);
    await db.query(
      `ALTER TABLE session_events DROP CONSTRAINT session_events_kind_check, DROP CONSTRAINT session_events_check`,
    );
    await db.query(`
      ALTER TABLE session_events
        ADD CONSTRAINT session_events_kind_check CHECK (kind IN ('user', 'session')),
        ADD CONSTRAINT session_events_check CHECK (
          (kind = 'user' AND token_version IS NOT NULL) OR (kind = 'session' AND session_id IS NOT NULL)
        )`);
  }
}
