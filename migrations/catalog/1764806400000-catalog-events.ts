import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee } from '../../foundation/postgres/privileges.js';

/**
 * CatalogEvents1764806400000 adds the catalog's change feed (contracts/catalog-events.ts): `catalog_events`, one row
 * per change of shared fields (a provider's skills, and so the service's providers), a NOTIFY on `catalog_events` after each insert so that every
 * catalog instance serves it at once, and an index on created_at (events found by age, as session_events has). The
 * runtime role may only add and read events (UPDATE and DELETE, which default privileges give, are taken back, and
 * TRUNCATE for good measure): a gateway that follows the feed trusts that a sequence number, once read, names the same
 * event for good.
 */
export class CatalogEvents1764806400000 implements MigrationInterface {
  name = 'CatalogEvents1764806400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE catalog_events (
        seq bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('skills')),
        provider_id uuid NOT NULL,
        service_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX catalog_events_created_idx ON catalog_events (created_at)`);
    await db.query(`
      CREATE FUNCTION catalog_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('catalog_events', NEW.seq::text);
        RETURN NEW;
      END
      $$`);
    await db.query(
      `CREATE TRIGGER catalog_events_notify AFTER INSERT ON catalog_events FOR EACH ROW EXECUTE FUNCTION catalog_events_notify()`,
    );
    await db.query(forEachGrantee(['catalog_events'], 'REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE catalog_events`);
    await db.query(`DROP FUNCTION catalog_events_notify()`);
  }
}
