import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ServicesAndCategoriesNeverChange1764633600000 leaves every role but the owner (who runs the migrations) only SELECT
 * and INSERT on services and categories, whatever default privileges gave them: a service or a category, once made,
 * is never changed or removed, so the catalog subgraph may keep the rows it has read (PostgresCatalogStore).
 */
export class ServicesAndCategoriesNeverChange1764633600000 implements MigrationInterface {
  name = 'ServicesAndCategoriesNeverChange1764633600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      DO $$
      DECLARE target record;
      BEGIN
        FOR target IN
          SELECT DISTINCT c.relname AS relation,
                 CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
          WHERE c.oid IN ('services'::regclass, 'categories'::regclass) AND a.grantee <> c.relowner
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', target.relation, target.grantee);
        END LOOP;
      END
      $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    // The runtime roles' rights come back through the schema's default privileges for new tables only; give these
    // tables' grantees back what the defaults give.
    await db.query(`
      DO $$
      DECLARE target record;
      BEGIN
        FOR target IN
          SELECT DISTINCT c.relname AS relation, quote_ident(r.rolname) AS grantee
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee
          WHERE c.oid IN ('services'::regclass, 'categories'::regclass) AND a.grantee <> c.relowner
        LOOP
          EXECUTE format('GRANT UPDATE, DELETE ON %I TO %s', target.relation, target.grantee);
        END LOOP;
      END
      $$`);
  }
}
