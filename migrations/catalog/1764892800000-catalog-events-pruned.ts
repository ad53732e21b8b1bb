import type { MigrationInterface, QueryRunner } from 'typeorm';
import { pruneFunction } from '../../foundation/postgres/privileges.js';

/**
 * CatalogEventsPruned1764892800000 adds `prune_catalog_events(keep_seconds)`: the catalog's feed deletes its old events
 * through it (foundation/postgres/change-feed.ts, CATALOG_FEED_KEEP_HOURS), since its runtime role may not delete
 * events itself. It keeps at least a day and always the newest event.
 */
export class CatalogEventsPruned1764892800000 implements MigrationInterface {
  name = 'CatalogEventsPruned1764892800000';

  async up(db: QueryRunner): Promise<void> {
    for (const statement of pruneFunction('catalog_events')) await db.query(statement);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION prune_catalog_events(integer)`);
  }
}
