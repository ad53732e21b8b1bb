/**
 * forEachGrantee is a DO block, for a migration, that runs `statement` (a format() string of the table and the role,
 * in that order) for every role but the owner that holds a right on one of the tables; PUBLIC too when `withPublic`.
 * Migrations narrow with it what the owner's default privileges gave the runtime role on a new table (whose name the
 * migration does not know: `fixup_catalog`, or a test's own). The tables are constants of the migration, never input.
 */
export function forEachGrantee(tables: readonly string[], statement: string, withPublic: boolean): string {
  for (const table of tables) if (!/^[a-z_]+$/.test(table)) throw new Error(`${table} is not a plain table name`);
  const oids = tables.map((table) => `'${table}'::regclass`).join(', ');
  return `
    DO $$
    DECLARE target record;
    BEGIN
      FOR target IN
        SELECT DISTINCT c.relname AS relation,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.oid IN (${oids}) AND a.grantee <> c.relowner
          ${withPublic ? '' : 'AND a.grantee <> 0'}
      LOOP
        EXECUTE format('${statement}', target.relation, target.grantee);
      END LOOP;
    END
    $$`;
}
