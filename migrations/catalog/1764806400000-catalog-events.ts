import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee } from '../../foundation/postgres/privileges.js';

/** CATALOG_EVENTS_LOCK serializes writers of catalog_events so that their sequence numbers commit in order. */
const CATALOG_EVENTS_LOCK = 0x6361746576; // "catev"

/**
 * CatalogEvents1764806400000 adds the catalog's change feed (contracts/catalog-events.ts): `catalog_events`, one row
 * per change of shared fields (a provider's skills, and so the service's providers) written by a trigger on `skills`,
 * a NOTIFY on `catalog_events` after each insert so that every catalog instance serves it at once, and an index on
 * created_at (events found by age, as session_events has). The runtime role may only add and read events (UPDATE and
 * DELETE, which default privileges give, are taken back, and TRUNCATE for good measure): a gateway that follows the
 * feed trusts that a sequence number, once read, names the same event for good.
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
    // Every change of a row of skills writes its event in the same statement, whoever writes it (the subgraph, a
    // script, an operator by hand): no write can skip the feed. The lock ("catev"), held until commit, makes events
    // commit in sequence order, which the feed relies on (foundation/postgres/change-feed.ts).
    await db.query(`
      CREATE FUNCTION skills_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(${CATALOG_EVENTS_LOCK});
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
          INSERT INTO catalog_events (kind, provider_id, service_id) VALUES ('skills', OLD.provider_id, OLD.service_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO catalog_events (kind, provider_id, service_id) VALUES ('skills', NEW.provider_id, NEW.service_id);
        END IF;
        RETURN NULL;
      END
      $$`);
    await db.query(
      `CREATE TRIGGER skills_changed AFTER INSERT OR UPDATE OR DELETE ON skills FOR EACH ROW EXECUTE FUNCTION skills_changed()`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER skills_changed ON skills`);
    await db.query(`DROP FUNCTION skills_changed()`);
    await db.query(`DROP TABLE catalog_events`);
    await db.query(`DROP FUNCTION catalog_events_notify()`);
  }
}
