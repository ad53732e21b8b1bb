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
 * MIN_KEEP_SECONDS is the least a change feed's pruning function keeps, whatever it is asked: a day of events, more
 * than any feed's replay (the session feed replays an access token's lifetime, at most USER_JWT_ACCESS_TTL_SECONDS'
 * bound), so that even a stolen runtime login cannot erase what a starting gateway must be replayed.
 */
export const MIN_KEEP_SECONDS = 86_400;

/** PRUNE_BATCH is how many events one call of a pruning function deletes at most; the feed calls again while full. */
export const PRUNE_BATCH = 10_000;

/**
 * pruneFunction gives the statements, for a migration, that make a change feed table's pruning function
 * `prune_<table>(keep_seconds integer) RETURNS integer` (foundation/postgres/change-feed.ts calls it): it deletes up to
 * PRUNE_BATCH of the events older than keep_seconds, at least MIN_KEEP_SECONDS, but never the newest one (the feed's
 * position, read at start from max(seq)), oldest first, and gives how many went. It runs with its owner's rights
 * (SECURITY DEFINER, with a fixed search_path and schema-qualified names), so that a runtime role that may not delete
 * events (UPDATE, DELETE and TRUNCATE revoked) may still prune old ones, and nothing younger. PUBLIC may not run it;
 * the roles with rights on the table may (whatever the owner's default privileges say).
 */
export function pruneFunction(table: string): string[] {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`${table} is not a plain table name`);
  const fn = `public.prune_${table}(integer)`;
  return [
    `
    CREATE FUNCTION public.prune_${table}(keep_seconds integer) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      WITH doomed AS (
        SELECT seq FROM public.${table}
        WHERE created_at < now() - make_interval(secs => greatest(keep_seconds, ${MIN_KEEP_SECONDS}))
          AND seq < (SELECT max(seq) FROM public.${table})
        ORDER BY seq
        LIMIT ${PRUNE_BATCH}
      ), gone AS (
        DELETE FROM public.${table} WHERE seq IN (SELECT seq FROM doomed) RETURNING 1
      )
      SELECT count(*)::integer FROM gone
    $$`,
    `REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`,
    forEachGrantee([table], `GRANT EXECUTE ON FUNCTION ${fn} TO %2$s`, false),
  ];
}
