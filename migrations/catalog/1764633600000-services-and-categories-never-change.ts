import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * forEachGrantee is a DO block that runs `statement` (a format() string of the table and the role, in that order) for
 * every role but the owner that holds a right on services or categories; PUBLIC too when `withPublic`.
 */
function forEachGrantee(statement: string, withPublic: boolean): string {
  return `
    DO $$
    DECLARE target record;
    BEGIN
      FOR target IN
        SELECT DISTINCT c.relname AS relation,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.oid IN ('services'::regclass, 'categories'::regclass) AND a.grantee <> c.relowner
          ${withPublic ? '' : 'AND a.grantee <> 0'}
      LOOP
        EXECUTE format('${statement}', target.relation, target.grantee);
      END LOOP;
    END
    $$`;
}

/**
 * ServicesAndCategoriesNeverChange1764633600000 leaves every role but the owner (who runs the migrations) only SELECT
 * and INSERT on services and categories, whatever default privileges gave them: a service or a category, once made,
 * is never changed or removed, so the catalog subgraph may keep the rows it has read (PostgresCatalogStore).
 */
export class ServicesAndCategoriesNeverChange1764633600000 implements MigrationInterface {
  name = 'ServicesAndCategoriesNeverChange1764633600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(forEachGrantee('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
  }

  async down(db: QueryRunner): Promise<void> {
    // The schema's default privileges reach new tables only: give these tables' grantees back what the defaults give.
    await db.query(forEachGrantee('GRANT UPDATE, DELETE ON %I TO %s', false));
  }
}
