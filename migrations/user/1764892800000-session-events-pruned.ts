import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee, pruneFunction } from '../../foundation/postgres/privileges.js';

/**
 * SessionEventsPruned1764892800000 makes the session feed's events as fixed as the catalog's: the runtime role may
 * only add and read them (UPDATE, DELETE and TRUNCATE taken back; a gateway trusts that a sequence number, once read,
 * names the same event for good), and deletes old ones only through `prune_session_events(keep_seconds)`
 * (foundation/postgres/change-feed.ts, USER_FEED_KEEP_HOURS), which keeps at least a day and the newest event.
 */
export class SessionEventsPruned1764892800000 implements MigrationInterface {
  name = 'SessionEventsPruned1764892800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(forEachGrantee(['session_events'], 'REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
    for (const statement of pruneFunction('session_events')) await db.query(statement);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION prune_session_events(integer)`);
    await db.query(forEachGrantee(['session_events'], 'GRANT UPDATE, DELETE ON %I TO %s', false));
  }
}
