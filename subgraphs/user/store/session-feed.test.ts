import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { checkFeedTableRights } from '../../../foundation/testkit/feed-tables.js';
import { createLogger } from '../../../foundation/telemetry/logger.js';
import { SESSION_SEQ_HEADER } from '../../../contracts/session-events.js';
import { userMigrations } from '../../../migrations/user/index.js';
import { EmailTokenRow, RefreshTokenRow, SessionEventRow, SessionRow, UserRow } from './entities.js';
import { PostgresSessionFeed, type SessionEvent } from './session-feed.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The feed's behaviour (replay, listener loss, publishing) is PostgresChangeFeed's, tested in
// foundation/postgres/change-feed.test.ts; this is the user subgraph's table, channel, events and header.
describe('PostgresSessionFeed (real PostgreSQL)', () => {
  let db: TestDatabase;
  let feed: PostgresSessionFeed;

  before(async () => {
    db = await createTestDatabase(
      'feed',
      [UserRow, SessionRow, RefreshTokenRow, EmailTokenRow, SessionEventRow],
      userMigrations,
    );
    feed = new PostgresSessionFeed(
      db.dataSource,
      db.url,
      3600,
      7 * 24 * 3600,
      createLogger({ service: 'test', level: 'silent' }),
    );
    await feed.start();
  });
  after(async () => {
    await feed?.close();
    await db?.drop();
  });

  it("delivers another writer's session events as the contract's events, and names them in a mutation's answer", async () => {
    const received: SessionEvent[] = [];
    await feed.subscribe({ send: (e) => received.push(e), end: () => {} }, null);
    // Written by another connection, as another user instance would: only LISTEN/NOTIFY brings it here.
    const userId = randomUUID();
    await db.dataSource.query(`INSERT INTO session_events (kind, user_id) VALUES ('profile', $1)`, [userId]);
    await db.dataSource.query(`INSERT INTO session_events (kind, user_id, token_version) VALUES ('user', $1, 3)`, [
      userId,
    ]);
    for (let i = 0; i < 100 && received.length < 2; i++) await sleep(20);
    assert.deepEqual(
      received.map(({ kind, userId, sessionId, tokenVersion }) => ({ kind, userId, sessionId, tokenVersion })),
      [
        { kind: 'profile', userId, sessionId: null, tokenVersion: null },
        { kind: 'user', userId, sessionId: null, tokenVersion: 3 },
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(received[0]!.at)));
    assert.deepEqual(feed.answerHeaders('mutation'), { [SESSION_SEQ_HEADER]: String(received[1]!.seq) });

    // A gateway that starts is replayed what concerns a live access token (here the last hour): these events too.
    const replayed: SessionEvent[] = [];
    await feed.subscribe({ send: (e) => replayed.push(e), end: () => {} }, null);
    assert.deepEqual(
      replayed.map((e) => e.seq),
      received.map((e) => e.seq),
    );
    const listeners: { n: number }[] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'fixup-user-session-feed' AND datname = $1`,
      [db.grant.database],
    );
    assert.equal(listeners[0]!.n, 1, 'the feed listens on one connection of its own name');
  });

  it('lets the runtime role add and read events, never change or remove them but through the pruning function', () =>
    db.dataSource
      .query(`INSERT INTO session_events (kind, user_id) VALUES ('profile', $1)`, [randomUUID()])
      .then(() => checkFeedTableRights(db, 'session_events', 'kind', () => feed.prune())));
});
