import { traceIdsOf } from '../telemetry/tracing.js';
import type { EntityManager, QueryRunner } from 'typeorm';
import { scrubMetadata, type AuditEntry } from './audit-entry.js';
import { AUDIT_TOPIC, type AuditEventMessage } from '../../contracts/audit.js';
import type { Caller } from '../../contracts/caller.js';
import { newId } from '../core/ids.js';

/** createOutboxTable is the migration step that gives a subgraph's database its outbox. */
export async function createOutboxTable(db: QueryRunner): Promise<void> {
  await db.query(`
    CREATE TABLE outbox (
      seq bigserial PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      topic text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      last_error text
    )`);
  await db.query(`CREATE INDEX outbox_pending_idx ON outbox (topic, seq) WHERE delivered_at IS NULL`);
}

/**
 * recordAuditEvent writes an audit event to the outbox through the given
 * transaction, so the event exists exactly when the change it describes does.
 */
export async function recordAuditEvent(
  manager: EntityManager,
  subgraph: string,
  entry: AuditEntry,
  caller: Caller,
): Promise<AuditEventMessage> {
  const payload: AuditEventMessage = {
    id: newId(),
    action: entry.action,
    occurredAt: new Date().toISOString(),
    subgraph,
    actorId: entry.actorId,
    targetType: entry.targetType,
    targetId: entry.targetId,
    ip: caller.ip,
    userAgent: caller.userAgent,
    traceId: traceIdsOf(caller.traceparent)?.traceId ?? null,
    metadata: scrubMetadata(entry.metadata ?? {}),
  };
  await manager.query(`INSERT INTO outbox (id, topic, payload) VALUES ($1, $2, $3)`, [
    payload.id,
    AUDIT_TOPIC,
    JSON.stringify(payload),
  ]);
  return payload;
}

/** OutboxBacklog is what an outbox still has to deliver. */
export interface OutboxBacklog {
  pending: number;
  oldest: Date | null;
  maxAttempts: number;
  lastError: string | null;
}

/**
 * outboxBacklog counts the undelivered events of a database's outbox, with the oldest one's time and the latest error.
 */
export async function outboxBacklog(manager: Pick<EntityManager, 'query'>): Promise<OutboxBacklog> {
  const rows: { pending: number; oldest: Date | null; max_attempts: number | null; last_error: string | null }[] =
    await manager.query(
      `SELECT count(*)::int AS pending, min(created_at) AS oldest, max(attempts) AS max_attempts,
       (SELECT last_error FROM outbox WHERE delivered_at IS NULL AND last_error IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last_error
     FROM outbox WHERE delivered_at IS NULL`,
    );
  const row = rows[0]!;
  return { pending: row.pending, oldest: row.oldest, maxAttempts: row.max_attempts ?? 0, lastError: row.last_error };
}
