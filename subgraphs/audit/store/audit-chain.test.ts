import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { auditMigrations } from '../../../migrations/audit/index.js';
import { auditChainHash } from '../../../foundation/events/audit-chain.js';
import { AuditLog, type AuditEvent } from '../business/audit-log.js';
import { PostgresAuditStore } from './audit-store.js';
import { AuditEventRow } from './entities.js';

function event(i: number, source: string): AuditEvent {
  return {
    id: randomUUID(),
    action: 'auth.login_succeeded',
    occurredAt: new Date(Date.parse('2026-11-30T12:00:00.000Z') + i),
    subgraph: source,
    actorId: randomUUID(),
    targetType: 'User',
    targetId: String(i),
    ip: '198.51.100.1',
    userAgent: 'test',
    traceId: null,
    metadata: { i, nested: { b: [1, 2], a: 'x' } },
  };
}

describe('the audit hash chain', () => {
  let db: TestDatabase;
  let log: AuditLog;
  let superuser: pg.Client;
  /** asSuperuser runs SQL with triggers off, as someone holding the server's superuser password would. */
  const asSuperuser = async (sql: string, values: unknown[] = []) => {
    await superuser.query(`SET session_replication_role = replica`);
    try {
      return (await superuser.query(sql, values)).rows;
    } finally {
      await superuser.query(`SET session_replication_role = DEFAULT`);
    }
  };

  before(async () => {
    db = await createTestDatabase('auditchain', [AuditEventRow], auditMigrations);
    log = new AuditLog(new PostgresAuditStore(db.dataSource));
    superuser = new pg.Client({ connectionString: new URL(`/${db.grant.database}`, db.adminUrl).toString() });
    await superuser.connect();
  });
  after(async () => {
    await superuser?.end();
    await db?.drop();
  });

  it('stores each event once and keeps one unbroken chain under concurrent, repeated delivery', async () => {
    const sources = ['user', 'catalog', 'order', 'chat'].map((s) => Array.from({ length: 60 }, (_, i) => event(i, s)));
    // Four relays deliver at once. Each sends its events in order, as a relay does, but twice at a
    // time (a retry racing the first try) and again in overlapping slices (a retry after a lost answer).
    const stored = await Promise.all(
      sources.map(async (events) => {
        const first = await Promise.all([log.ingest(events.slice(0, 40)), log.ingest(events.slice(0, 40))]);
        return first[0] + first[1] + (await log.ingest(events.slice(20, 60))) + (await log.ingest(events));
      }),
    );
    assert.equal(
      stored.reduce((a, b) => a + b, 0),
      240,
    );
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`);
    assert.equal(n, 240);
    const report = await log.verify();
    assert.equal(report.broken, null);
    assert.equal(report.verified, 240);
    assert.equal(report.head?.seq, 240);
    // Each source's events keep their order in the chain.
    for (const events of sources) {
      const rows: { chain_seq: string }[] = await db.dataSource.query(
        `SELECT chain_seq FROM audit_events WHERE id = ANY($1::uuid[]) ORDER BY target_id::int`,
        [events.map((e) => e.id)],
      );
      const seqs = rows.map((r) => Number(r.chain_seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
    }
  });

  it('names an event a superuser edited, and holds again once it is put back', async () => {
    const [row] = await asSuperuser(`SELECT id, action FROM audit_events WHERE chain_seq = 57`);
    await asSuperuser(`UPDATE audit_events SET action = 'auth.logout' WHERE chain_seq = 57`);
    const report = await log.verify();
    assert.deepEqual(report.broken && { seq: report.broken.seq, id: report.broken.id }, { seq: 57, id: row.id });
    assert.match(report.broken!.reason, /content does not match its hash/);
    assert.equal(report.verified, 56);
    await asSuperuser(`UPDATE audit_events SET action = $1 WHERE chain_seq = 57`, [row.action]);
    assert.equal((await log.verify()).broken, null);
  });

  it('names the event after one whose content and hash were both rewritten', async () => {
    const [original] = await asSuperuser(`SELECT metadata, hash, prev_hash FROM audit_events WHERE chain_seq = 100`);
    const [next] = await db.dataSource.query(`SELECT id FROM audit_events WHERE chain_seq = 101`);
    const [row] = await db.dataSource.getRepository(AuditEventRow).findBy({ chainSeq: '100' });
    const forged = { ...row!, metadata: { i: 999 } };
    const forgedHash = auditChainHash(original.prev_hash, forged);
    await asSuperuser(`UPDATE audit_events SET metadata = $1, hash = $2 WHERE chain_seq = 100`, [
      forged.metadata,
      forgedHash,
    ]);
    const report = await log.verify();
    assert.equal(report.broken?.seq, 101);
    assert.equal(report.broken?.id, next.id);
    assert.match(report.broken!.reason, /previous-hash/);
    await asSuperuser(`UPDATE audit_events SET metadata = $1, hash = $2 WHERE chain_seq = 100`, [
      original.metadata,
      original.hash,
    ]);
    assert.equal((await log.verify()).broken, null);
  });

  it('names a removal in the middle', async () => {
    const db2 = await createTestDatabase('auditchain2', [AuditEventRow], auditMigrations);
    const log2 = new AuditLog(new PostgresAuditStore(db2.dataSource));
    const admin = new pg.Client({ connectionString: new URL(`/${db2.grant.database}`, db2.adminUrl).toString() });
    await admin.connect();
    try {
      await log2.ingest(Array.from({ length: 10 }, (_, i) => event(i, 'user')));
      await admin.query(`SET session_replication_role = replica`);
      const [gone] = (await admin.query(`DELETE FROM audit_events WHERE chain_seq = 4 RETURNING id`)).rows;
      let report = await log2.verify();
      assert.equal(report.broken?.seq, 5);
      assert.match(report.broken!.reason, /events 4 to 4 are missing/);
      assert.ok(gone);
      // Renumbering to hide the gap breaks the hashes instead.
      await admin.query(`UPDATE audit_events SET chain_seq = chain_seq - 1 WHERE chain_seq > 4`);
      report = await log2.verify();
      assert.equal(report.broken?.seq, 4);
      assert.match(report.broken!.reason, /previous-hash/);
    } finally {
      await admin.end();
      await db2.drop();
    }
  });
});
