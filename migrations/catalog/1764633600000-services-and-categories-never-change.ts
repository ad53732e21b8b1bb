import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee } from '../../foundation/postgres/privileges.js';

/** TABLES are the tables that never change once a row is made. */
const TABLES = ['services', 'categories'];

/**
 * ServicesAndCategoriesNeverChange1764633600000 leaves every role but the owner (who runs the migrations) only SELECT
 * and INSERT on services and categories, whatever default privileges gave them: a service or a category, once made,
 * is never changed or removed, so the catalog subgraph may keep the rows it has read (PostgresCatalogStore).
 */
export class ServicesAndCategoriesNeverChange1764633600000 implements MigrationInterface {
  name = 'ServicesAndCategoriesNeverChange1764633600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(forEachGrantee(TABLES, 'REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
  }

  async down(db: QueryRunner): Promise<void> {
    // The schema's default privileges reach new tables only: give these tables' grantees back what the defaults give.
    await db.query(forEachGrantee(TABLES, 'GRANT UPDATE, DELETE ON %I TO %s', false));
  }
}
