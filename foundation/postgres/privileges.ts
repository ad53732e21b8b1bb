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

/**
 * MIN_KEEP_SECONDS is the least a change feed's pruning function keeps, whatever it is asked: an hour of events.
 */
export const MIN_KEEP_SECONDS = 3600;

/**
 * pruneFunction is the statement, for a migration, that makes a change feed table's pruning function
 * `prune_<table>(keep_seconds integer) RETURNS integer` (foundation/postgres/change-feed.ts calls it): it deletes the
 * events older than keep_seconds, at least MIN_KEEP_SECONDS, but never the newest one (the feed's position, read at
 * start from max(seq)), and gives how many went. It runs with its owner's rights (SECURITY DEFINER, with a fixed
 * search_path), so that a runtime role that may not delete events (UPDATE, DELETE and TRUNCATE revoked) may still
 * prune old ones, and nothing younger.
 */
export function pruneFunction(table: string): string {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`${table} is not a plain table name`);
  return `
    CREATE FUNCTION prune_${table}(keep_seconds integer) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      WITH gone AS (
        DELETE FROM public.${table}
        WHERE created_at < now() - make_interval(secs => greatest(keep_seconds, ${MIN_KEEP_SECONDS}))
          AND seq < (SELECT max(seq) FROM public.${table})
        RETURNING 1
      )
      SELECT count(*)::integer FROM gone
    $$`;
}
