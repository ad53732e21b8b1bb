import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { createLogger } from '../../../foundation/telemetry/logger.js';
import { userMigrations } from '../../../migrations/user/index.js';
import { EmailTokenRow, RefreshTokenRow, SessionEventRow, SessionRow, UserRow } from './entities.js';
import { PostgresSessionFeed, type SessionEvent } from './session-feed.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgresSessionFeed (real PostgreSQL)', () => {
  let db: TestDatabase;
  let feed: PostgresSessionFeed;

  before(async () => {
    db = await createTestDatabase(
      'feed',
      [UserRow, SessionRow, RefreshTokenRow, EmailTokenRow, SessionEventRow],
      userMigrations,
    );
    feed = new PostgresSessionFeed(db.dataSource, db.url, 3600, createLogger({ service: 'test', level: 'silent' }));
    await feed.start();
  });
  after(async () => {
    await feed?.close();
    await db?.drop();
  });

  it("delivers another writer's profile event, ends its streams when its listener is lost, and listens again", async () => {
    const received: SessionEvent[] = [];
    let ended = 0;
    await feed.subscribe({ send: (e) => received.push(e), end: () => ended++ }, null);
    // Written by another connection, as another user instance would: only LISTEN/NOTIFY brings it here.
    const userId = randomUUID();
    await db.dataSource.query(`INSERT INTO session_events (kind, user_id) VALUES ('profile', $1)`, [userId]);
    for (let i = 0; i < 100 && received.length === 0; i++) await sleep(20);
    assert.deepEqual(
      received.map((e) => [e.kind, e.userId]),
      [['profile', userId]],
    );

    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fixup-user-session-feed' AND datname = $1`,
        [db.grant.database],
      );
      assert.equal(rowCount, 1, 'the feed listens on one connection');
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 100 && ended === 0; i++) await sleep(20);
    assert.equal(ended, 1, 'the stream was ended: it could no longer promise every event');
    assert.equal(feed.listening, false);
    for (let i = 0; i < 200 && !feed.listening; i++) await sleep(20);
    assert.equal(feed.listening, true, 'and listens again');

    const again: SessionEvent[] = [];
    await feed.subscribe({ send: (e) => again.push(e), end: () => {} }, received[0]!.seq);
    await db.dataSource.query(`INSERT INTO session_events (kind, user_id) VALUES ('profile', $1)`, [userId]);
    for (let i = 0; i < 100 && again.length === 0; i++) await sleep(20);
    assert.equal(again.length, 1, 'a new stream hears other writers again');
  });
});
