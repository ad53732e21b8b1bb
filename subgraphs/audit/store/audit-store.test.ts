import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { auditMigrations } from '../../../migrations/audit/index.js';
import { AuditLog } from '../business/audit-log.js';
import { PostgresAuditStore } from './audit-store.js';
import { AuditEventRow } from './entities.js';

describe('audit store', () => {
  let db: TestDatabase;
  let log: AuditLog;
  const actor = randomUUID();

  before(async () => {
    db = await createTestDatabase('audit', [AuditEventRow], auditMigrations);
    log = new AuditLog(new PostgresAuditStore(db.dataSource));
    const base = Date.parse('2026-11-01T00:00:00.000Z');
    const events = [];
    for (let i = 0; i < 25; i++) {
      events.push({
        id: randomUUID(),
        action: i % 2 ? 'auth.login_succeeded' : 'auth.login_failed',
        // Every fifth event shares its instant with the one before, so the id breaks ties.
        occurredAt: new Date(base + Math.floor(i - (i % 5 === 4 ? 1 : 0)) * 1000),
        subgraph: 'user',
        actorId: i < 10 ? actor : randomUUID(),
        targetType: 'User',
        targetId: String(i),
        ip: null,
        userAgent: null,
        traceId: null,
        metadata: {},
      });
    }
    assert.equal(await log.ingest(events), 25);
  });
  after(() => db.drop());

  it('pages newest first with no gap and no duplicate', async () => {
    const seen: string[] = [];
    let position;
    for (;;) {
      const page = await log.events({}, 7, position);
      seen.push(...page.items.map((e) => e.id));
      if (!page.hasNextPage) break;
      const last = page.items[page.items.length - 1]!;
      position = { occurredAt: last.occurredAt, id: last.id };
    }
    const all = await log.events({}, 100, undefined);
    assert.equal(seen.length, 25);
    assert.deepEqual(
      seen,
      all.items.map((e) => e.id),
    );
    const times = all.items.map((e) => e.occurredAt.getTime());
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
  });

  it('filters by actor, action and time', async () => {
    assert.equal((await log.events({ actorId: actor }, 100, undefined)).items.length, 10);
    const failed = await log.events({ action: 'auth.login_failed' }, 100, undefined);
    assert.ok(failed.items.every((e) => e.action === 'auth.login_failed'));
    const window = await log.events(
      { from: new Date('2026-11-01T00:00:05.000Z'), to: new Date('2026-11-01T00:00:10.000Z') },
      100,
      undefined,
    );
    assert.ok(
      window.items.length > 0 &&
        window.items.every(
          (e) => e.occurredAt >= new Date('2026-11-01T00:00:05Z') && e.occurredAt < new Date('2026-11-01T00:00:10Z'),
        ),
    );
  });

  it('refuses UPDATE, DELETE and TRUNCATE through its own role and as the database owner', async () => {
    await assert.rejects(db.dataSource.query(`UPDATE audit_events SET action = 'x'`), /permission denied|append-only/);
    await assert.rejects(db.dataSource.query(`DELETE FROM audit_events`), /permission denied|append-only/);
    await assert.rejects(db.dataSource.query(`TRUNCATE audit_events`), /permission denied|append-only/);
    const admin = new pg.Client({ connectionString: new URL(`/${db.grant.database}`, db.adminUrl).toString() });
    await admin.connect();
    try {
      await assert.rejects(admin.query(`UPDATE audit_events SET action = 'x'`), /append-only/);
      await assert.rejects(admin.query(`DELETE FROM audit_events`), /append-only/);
      await assert.rejects(admin.query(`TRUNCATE audit_events`), /append-only/);
    } finally {
      await admin.end();
    }
    assert.equal((await log.events({}, 100, undefined)).items.length, 25);
  });
});
