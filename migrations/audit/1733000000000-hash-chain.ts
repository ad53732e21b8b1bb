import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_CHAIN_GENESIS, auditChainHash } from '../../foundation/events/audit-chain.js';

const BATCH = 1000;

/**
 * AuditHashChain1733000000000 chains the audit log: each event stores its
 * place in the chain (`chain_seq`, 1, 2, 3… with no gap), the previous event's
 * hash, and its own hash over that and its canonical content. Events already
 * stored are chained in the order they were recorded; to do so the migration
 * lifts the append-only trigger and the owner's UPDATE right for its own
 * transaction only, and restores both.
 */
export class AuditHashChain1733000000000 implements MigrationInterface {
  name = 'AuditHashChain1733000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE audit_events ADD COLUMN chain_seq bigint, ADD COLUMN prev_hash text, ADD COLUMN hash text`,
    );
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM audit_events`)) as { n: number }[];
    if (n > 0) {
      await db.query(`GRANT UPDATE ON audit_events TO CURRENT_USER`);
      await db.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`);
      let seq = 0;
      let previous = AUDIT_CHAIN_GENESIS;
      for (;;) {
        const rows: Row[] = await db.query(
          `SELECT id, action, occurred_at, subgraph, actor_id, target_type, target_id, ip, user_agent, trace_id, metadata
           FROM audit_events WHERE chain_seq IS NULL ORDER BY recorded_at, occurred_at, id LIMIT ${BATCH}`,
        );
        if (rows.length === 0) break;
        const links = rows.map((r) => {
          seq += 1;
          const hash = auditChainHash(previous, {
            id: r.id,
            action: r.action,
            occurredAt: r.occurred_at,
            subgraph: r.subgraph,
            actorId: r.actor_id,
            targetType: r.target_type,
            targetId: r.target_id,
            ip: r.ip,
            userAgent: r.user_agent,
            traceId: r.trace_id,
            metadata: r.metadata,
          });
          const link = { id: r.id, seq, prev: previous, hash };
          previous = hash;
          return link;
        });
        await db.query(
          `UPDATE audit_events e SET chain_seq = l.seq, prev_hash = l.prev, hash = l.hash
           FROM jsonb_to_recordset($1::jsonb) AS l(id uuid, seq bigint, prev text, hash text) WHERE e.id = l.id`,
          [JSON.stringify(links)],
        );
      }
      await db.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`);
      await db.query(`REVOKE UPDATE ON audit_events FROM CURRENT_USER`);
    }
    await db.query(
      `ALTER TABLE audit_events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL`,
    );
    await db.query(`ALTER TABLE audit_events ADD CONSTRAINT audit_events_chain_seq_check CHECK (chain_seq > 0)`);
    await db.query(
      `ALTER TABLE audit_events ADD CONSTRAINT audit_events_hash_check CHECK (hash ~ '^[0-9a-f]{64}$' AND prev_hash ~ '^[0-9a-f]{64}$')`,
    );
    await db.query(`CREATE UNIQUE INDEX audit_events_chain_idx ON audit_events (chain_seq)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX audit_events_chain_idx`);
    await db.query(
      `ALTER TABLE audit_events DROP CONSTRAINT audit_events_hash_check, DROP CONSTRAINT audit_events_chain_seq_check`,
    );
    await db.query(`ALTER TABLE audit_events DROP COLUMN hash, DROP COLUMN prev_hash, DROP COLUMN chain_seq`);
  }
}

interface Row {
  id: string;
  action: string;
  occurred_at: Date;
  subgraph: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  trace_id: string | null;
  metadata: Record<string, unknown>;
}
