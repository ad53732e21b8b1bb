// Test support: what every change feed's table must let its runtime role do, checked the same way for each feed.
import assert from 'node:assert/strict';
import pg from 'pg';
import { adminUrlOf, type TestDatabase } from './databases.js';

/**
 * checkFeedTableRights shows, on a test database migrated with a feed's real migrations, that the runtime role may
 * add and read the feed's events but never change or remove them (UPDATE, DELETE and TRUNCATE are refused), and that
 * old ones go only through the feed's pruning function (`prune`, the feed's own, run as the runtime role): a
 * SECURITY DEFINER function with a fixed search_path that PUBLIC may not run, which deletes what is older than a day
 * but keeps a younger event and the newest, the feed's position. The table must hold at least three events.
 */
export async function checkFeedTableRights(
  db: TestDatabase,
  table: string,
  column: string,
  prune: () => Promise<number>,
): Promise<void> {
  for (const sql of [`UPDATE ${table} SET ${column} = ${column}`, `DELETE FROM ${table}`, `TRUNCATE ${table}`])
    await assert.rejects(db.dataSource.query(sql), /permission denied/, sql);
  const [fn] = (await db.dataSource.query(
    `SELECT prosecdef, proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
     FROM pg_proc p WHERE proname = $1`,
    [`prune_${table}`],
  )) as { prosecdef: boolean; proconfig: string[] | null; public_may: boolean }[];
  assert.ok(fn, `prune_${table} exists`);
  assert.equal(fn.prosecdef, true, "it runs with its owner's rights");
  assert.ok(
    fn.proconfig?.some((c) => c.startsWith('search_path=')),
    'with a fixed search_path',
  );
  assert.equal(fn.public_may, false, 'PUBLIC may not run it');
  const admin = new pg.Client({ connectionString: adminUrlOf(db) });
  await admin.connect();
  try {
    // Everything a month old but the second newest, two hours old: younger than the day the function keeps.
    await admin.query(`UPDATE ${table} SET created_at = now() - interval '30 days'`);
    await admin.query(
      `UPDATE ${table} SET created_at = now() - interval '2 hours'
       WHERE seq = (SELECT seq FROM ${table} ORDER BY seq DESC OFFSET 1 LIMIT 1)`,
    );
  } finally {
    await admin.end();
  }
  const count = async () =>
    ((await db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[])[0]!.n;
  const before = await count();
  assert.ok(before > 2, `${table} holds events to prune`);
  assert.equal(await prune(), before - 2, 'all but the young one and the newest, which holds the position');
  assert.equal(await count(), 2);
}
