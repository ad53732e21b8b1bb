import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../testkit/databases.js';
import { createLogger } from '../telemetry/logger.js';
import { PostgresChangeFeed, type ChangeFeedOptions } from './change-feed.js';
import { PRUNE_BATCH, pruneFunction } from './privileges.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** TestEvents1700000000000 makes a feed table as a migration would: seq, created_at, and a NOTIFY after each insert. */
class TestEvents1700000000000 implements MigrationInterface {
  name = 'TestEvents1700000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE test_events (
        seq bigserial PRIMARY KEY,
        label text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE FUNCTION test_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('test_events', NEW.seq::text);
        RETURN NEW;
      END
      $$`);
    await db.query(
      `CREATE TRIGGER test_events_notify AFTER INSERT ON test_events FOR EACH ROW EXECUTE FUNCTION test_events_notify()`,
    );
    for (const statement of pruneFunction('test_events')) await db.query(statement);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION prune_test_events(integer)`);
    await db.query(`DROP TABLE test_events`);
    await db.query(`DROP FUNCTION test_events_notify()`);
  }
}

interface TestEvent {
  seq: number;
  label: string;
}

interface TestRow {
  seq: string;
  label: string;
}

const HEADER = 'x-test-seq';

describe('PostgresChangeFeed (real PostgreSQL)', () => {
  let db: TestDatabase;
  const feeds: PostgresChangeFeed<TestEvent, TestRow>[] = [];

  /** feedOf makes (and starts) a feed of test_events, listening as `fixup-test-feed-<tag>`. */
  async function feedOf(tag: string, replaySeconds: number): Promise<PostgresChangeFeed<TestEvent, TestRow>> {
    const feed = new PostgresChangeFeed(db.dataSource, db.url, options(tag, replaySeconds));
    feeds.push(feed);
    await feed.start();
    return feed;
  }

  function options(tag: string, replaySeconds: number): ChangeFeedOptions<TestEvent, TestRow> {
    return {
      table: 'test_events',
      channel: 'test_events',
      applicationName: `fixup-test-feed-${tag}`,
      toEvent: (row) => ({ seq: Number(row.seq), label: row.label }),
      seqHeader: HEADER,
      replaySeconds,
      keepSeconds: 7 * 24 * 3600,
      name: 'test feed',
      logger: createLogger({ service: 'test', level: 'silent' }),
    };
  }

  /** write inserts events as another instance would: only LISTEN/NOTIFY brings them to a feed. */
  async function write(...labels: string[]): Promise<void> {
    for (const label of labels) await db.dataSource.query(`INSERT INTO test_events (label) VALUES ($1)`, [label]);
  }

  before(async () => {
    db = await createTestDatabase('changefeed', [], [TestEvents1700000000000]);
  });
  after(async () => {
    for (const feed of feeds) await feed.close();
    await db?.drop();
  });

  it('takes only plain names for its table and channel, which it writes into SQL', () => {
    assert.throws(
      () => new PostgresChangeFeed(db.dataSource, db.url, { ...options('x', 0), table: 'test_events; DROP TABLE x' }),
      /not a plain name/,
    );
    assert.throws(
      () => new PostgresChangeFeed(db.dataSource, db.url, { ...options('x', 0), channel: 'Test"Events' }),
      /not a plain name/,
    );
  });

  it('replays a new follower the events of its window (none with 0), a returning one what it missed', async () => {
    await write('old');
    await db.dataSource.query(`UPDATE test_events SET created_at = now() - interval '2 hours' WHERE label = 'old'`);
    await write('young');
    const windowed = await feedOf('windowed', 3600);
    const present = await feedOf('present', 0);
    const labels = async (feed: PostgresChangeFeed<TestEvent, TestRow>, after: number | null) => {
      const got: TestEvent[] = [];
      await feed.subscribe({ send: (e) => got.push(e), end: () => {} }, after);
      return got;
    };
    const young = await labels(windowed, null);
    assert.deepEqual(
      young.map((e) => e.label),
      ['young'],
    );
    assert.deepEqual(await labels(present, null), [], 'replaySeconds 0: a new follower starts at the present');
    assert.deepEqual(
      (await labels(present, young[0]!.seq - 1)).map((e) => e.label),
      ['young'],
      'a follower that names its last sequence gets what came after it, whatever the window',
    );
    assert.deepEqual(present.answerHeaders('mutation'), { [HEADER]: String(young[0]!.seq) });
    assert.deepEqual(present.answerHeaders('query'), {}, 'only a mutation names the sequence');
  });

  it('publishes in order to every follower, each event once, and names the sequence it reached', async () => {
    const feed = await feedOf('publish', 0);
    const got: number[] = [];
    await feed.subscribe({ send: (e) => got.push(e.seq), end: () => {} }, null);
    await write('a', 'b');
    // Told directly, as a mutation does after it commits: no waiting for the notification.
    await feed.publish();
    assert.equal(got.length, 2);
    assert.deepEqual(feed.answerHeaders('mutation'), { [HEADER]: String(got[1]) });
    await sleep(100);
    assert.equal(got.length, 2, 'the notifications of the same events send nothing more');
    assert.deepEqual(
      got,
      [...got].sort((a, b) => a - b),
    );
    assert.equal(feed.subscriberCount, 1);
  });

  it("delivers another writer's event, ends its streams when its listener is lost, and listens again", async () => {
    const feed = await feedOf('loss', 3600);
    const received: TestEvent[] = [];
    let ended = 0;
    await feed.subscribe({ send: (e) => received.push(e), end: () => ended++ }, null);
    received.length = 0; // the window's replay
    await write('before loss');
    for (let i = 0; i < 100 && received.length === 0; i++) await sleep(20);
    assert.deepEqual(
      received.map((e) => e.label),
      ['before loss'],
    );

    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fixup-test-feed-loss' AND datname = $1`,
        [db.grant.database],
      );
      assert.equal(rowCount, 1, 'the feed listens on one connection');
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 100 && ended === 0; i++) await sleep(20);
    assert.equal(ended, 1, 'the stream was ended: it could no longer promise every event');
    assert.equal(feed.listening, false);
    assert.equal(feed.subscriberCount, 0);
    // A stream opened before the feed listens again is ended after its replay: it could miss events.
    let endedLate = 0;
    await feed.subscribe({ send: () => {}, end: () => endedLate++ }, received[0]!.seq);
    assert.equal(endedLate, 1, 'a stream opened while the listener is lost is ended');
    assert.equal(feed.subscriberCount, 0);
    for (let i = 0; i < 200 && !feed.listening; i++) await sleep(20);
    assert.equal(feed.listening, true, 'and listens again');

    const again: TestEvent[] = [];
    await feed.subscribe({ send: (e) => again.push(e), end: () => {} }, received[0]!.seq);
    await write('after loss');
    for (let i = 0; i < 100 && again.length === 0; i++) await sleep(20);
    assert.deepEqual(
      again.map((e) => e.label),
      ['after loss'],
      'a new stream hears other writers again',
    );
  });

  it('deletes events older than what it keeps (at least a day), never the newest, and still knows its position', async () => {
    const feed = await feedOf('prune', 0);
    await write('old 1', 'old 2', 'recent', 'newest');
    const age = (label: string, interval: string) =>
      db.dataSource.query(`UPDATE test_events SET created_at = now() - $2::interval WHERE label = $1`, [
        label,
        interval,
      ]);
    await age('old 1', '8 days');
    await age('old 2', '2 days');
    await age('recent', '2 hours');
    const mine = async () =>
      ((await db.dataSource.query(`SELECT label FROM test_events ORDER BY seq`)) as { label: string }[])
        .map((r) => r.label)
        .filter((l) => ['old 1', 'old 2', 'recent', 'newest'].includes(l));
    assert.ok((await feed.prune()) >= 1);
    assert.deepEqual(await mine(), ['old 2', 'recent', 'newest'], 'a week is kept: the 8-day-old event goes');
    // Asked to keep nothing, the function keeps a day: the 2-day-old event goes, the 2-hour-old one stays.
    const [{ pruned }] = (await db.dataSource.query(`SELECT prune_test_events(0) AS pruned`)) as { pruned: number }[];
    assert.ok(pruned >= 1);
    assert.deepEqual(await mine(), ['recent', 'newest']);
    // The newest event stays whatever its age: a feed that starts reads its position from it.
    await db.dataSource.query(`UPDATE test_events SET created_at = now() - interval '30 days'`);
    await db.dataSource.query(`SELECT prune_test_events(0)`);
    const left = await db.dataSource.query(`SELECT max(seq)::int AS seq, count(*)::int AS n FROM test_events`);
    assert.equal(left[0].n, 1);
    assert.deepEqual(await mine(), ['newest']);
    const restarted = await feedOf('prune-restart', 0);
    assert.equal(await restarted.subscribe({ send: () => {}, end: () => {} }, null), left[0].seq);
  });

  it('reads a burst of events in a few reads, and prunes a long backlog a batch at a time, within one prune', async () => {
    const feed = await feedOf('prune-batches', 0);
    const reads = () =>
      db.statements.filter((sql) => /^SELECT \* FROM test_events WHERE seq > \$1 ORDER BY seq/.test(sql));
    const readsBefore = reads().length;
    // One statement, PRUNE_BATCH + 5 notifications: every open feed wakes that many times.
    await db.dataSource.query(
      `INSERT INTO test_events (label, created_at) SELECT 'backlog', now() - interval '30 days' FROM generate_series(1, $1)`,
      [PRUNE_BATCH + 5],
    );
    await write('after the backlog');
    const [{ last }] = await db.dataSource.query(`SELECT max(seq)::text AS last FROM test_events`);
    for (let i = 0; i < 200 && feed.answerHeaders('mutation')[HEADER] !== last; i++) await sleep(20);
    assert.equal(feed.answerHeaders('mutation')[HEADER], last);
    await sleep(500); // wake-ups still queued would read now
    assert.ok(
      reads().length - readsBefore < 10 * feeds.length,
      `wake-ups waiting their turn share one read (${reads().length - readsBefore} reads by ${feeds.length} feeds)`,
    );
    assert.ok((await feed.prune()) >= PRUNE_BATCH + 5, 'more than one batch');
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM test_events WHERE label = 'backlog'`);
    assert.equal(n, 0);
  });

  it('stops listening when closed', async () => {
    const feed = await feedOf('close', 0);
    assert.equal(feed.listening, true);
    await feed.close();
    assert.equal(feed.subscriberCount, 0);
    const listeners = async () =>
      (
        (await db.dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'fixup-test-feed-close'`,
        )) as { n: number }[]
      )[0]!.n;
    for (let i = 0; i < 100 && (await listeners()) > 0; i++) await sleep(20);
    assert.equal(await listeners(), 0);
  });
});
