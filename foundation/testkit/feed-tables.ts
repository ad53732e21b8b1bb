// Test support: what every change feed's table must let its runtime role do, checked the same way for each feed.
import assert from 'node:assert/strict';
import pg from 'pg';
import { adminUrlOf, type TestDatabase } from './databases.js';

/**
 * checkFeedTableRights shows, on a test database migrated with a feed's real migrations, that the runtime role may
 * add and read the feed's events but never change or remove them (UPDATE, DELETE and TRUNCATE are refused), and that
 * old ones go only through the feed's pruning function (`prune`, the feed's own, run as the runtime role), which keeps
 * the newest, the feed's position. The table must hold at least two events; all of them are aged by 30 days first.
 */
export async function checkFeedTableRights(
  db: TestDatabase,
  table: string,
  column: string,
  prune: () => Promise<number>,
): Promise<void> {
  for (const sql of [`UPDATE ${table} SET ${column} = ${column}`, `DELETE FROM ${table}`, `TRUNCATE ${table}`])
    await assert.rejects(db.dataSource.query(sql), /permission denied/, sql);
  const admin = new pg.Client({ connectionString: adminUrlOf(db) });
  await admin.connect();
  try {
    await admin.query(`UPDATE ${table} SET created_at = now() - interval '30 days'`);
  } finally {
    await admin.end();
  }
  const count = async () =>
    ((await db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[])[0]!.n;
  const before = await count();
  assert.ok(before > 1, `${table} holds events to prune`);
  assert.equal(await prune(), before - 1, 'all but the newest, which holds the position');
  assert.equal(await count(), 1);
}
