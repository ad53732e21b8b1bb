import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createDataSource, poolOf } from './database.js';
import { parseTimestamptz, TIMESTAMPTZ } from './timestamps.js';
import { createTestDatabase, type TestDatabase } from '../testkit/databases.js';
import { createLogger } from '../telemetry/logger.js';

describe('prepared statements', () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('prepared', [], []);
  });
  after(async () => {
    await database.drop();
  });

  /** withOneConnection runs fn on a data source of one connection that names at most `limit` statements. */
  async function withOneConnection<T>(
    limit: number,
    fn: (query: (sql: string, p?: unknown[]) => Promise<unknown[]>, dataSource: DataSource) => Promise<T>,
  ): Promise<T> {
    const dataSource = createDataSource({
      url: database.url,
      entities: [],
      migrations: [],
      logger: createLogger({ service: 'test', level: 'silent' }),
      poolSize: 1,
      applicationName: 'fixup-test-prepared',
      statementTimeoutMs: 10_000,
      preparedStatements: limit,
    });
    await dataSource.initialize();
    try {
      return await fn((sql, p) => dataSource.query(sql, p), dataSource);
    } finally {
      await dataSource.destroy();
    }
  }

  const prepared = (query: (sql: string) => Promise<unknown[]>) =>
    query('SELECT name, statement FROM pg_prepared_statements ORDER BY name') as Promise<
      { name: string; statement: string }[]
    >;

  it('prepares each parameterized statement once per connection, up to the limit, and answers the same', async () => {
    const texts = ['SELECT $1::int + 1 AS n', 'SELECT $1::int + 2 AS n', 'SELECT $1::int + 3 AS n'];
    await withOneConnection(2, async (query) => {
      for (const round of [10, 20])
        for (const [i, text] of texts.entries()) assert.deepEqual(await query(text, [round]), [{ n: round + i + 1 }]);
      assert.deepEqual(await query('SELECT 41 + 1 AS n'), [{ n: 42 }]);
      assert.deepEqual(await prepared(query), [
        { name: 'fixup_0', statement: texts[0] },
        { name: 'fixup_1', statement: texts[1] },
      ]);
    });
  });

  it('reads timestamptz with its own parser, to the millisecond in any session time zone', async () => {
    await withOneConnection(10, async (query, dataSource) => {
      const client = await poolOf(dataSource)!.connect();
      try {
        assert.equal(client.getTypeParser(TIMESTAMPTZ, 'text'), parseTimestamptz);
      } finally {
        client.release();
      }
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam', 'Pacific/Chatham']) {
        await query(`SET TIME ZONE '${zone}'`);
        const rows = (await query(
          `SELECT t, floor(extract(epoch FROM t) * 1000)::text AS ms FROM unnest(ARRAY[
             now(), '2026-12-02 04:25:12.123456+00', '2026-06-01 12:00:00.5 Asia/Kolkata',
             '1850-01-01 00:00:00 Europe/Amsterdam', '1000-01-01 00:00:00.999+00', 'infinity'
           ]::timestamptz[]) AS t`,
        )) as { t: Date | number; ms: string }[];
        for (const row of rows)
          assert.equal(row.t instanceof Date ? row.t.getTime() : row.t, Number(row.ms), `${zone}: ${row.ms}`);
      }
    });
  });

  it('prepares nothing with a limit of 0', async () => {
    await withOneConnection(0, async (query) => {
      assert.deepEqual(await query('SELECT $1::int AS n', [7]), [{ n: 7 }]);
      assert.deepEqual(await prepared(query), []);
    });
  });

  it('keeps a connection usable after a prepared statement fails', async () => {
    await withOneConnection(5, async (query) => {
      await assert.rejects(query('SELECT 1 / $1::int AS n', [0]), /division by zero/);
      assert.deepEqual(await query('SELECT 1 / $1::int AS n', [1]), [{ n: 1 }]);
      await assert.rejects(query('SELECT nonsense FROM nowhere WHERE x = $1', [1]), /does not exist/);
      assert.deepEqual(await query('SELECT $1::text AS t', ['ok']), [{ t: 'ok' }]);
    });
  });
});
