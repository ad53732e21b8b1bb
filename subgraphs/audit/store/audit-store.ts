import { type DataSource, type Repository } from 'typeorm';
import { anyOf } from '../../../foundation/postgres/database.js';
import type {
  AuditEvent,
  AuditFilter,
  AuditPosition,
  AuditStore,
  ChainedAuditEvent,
  ChainHead,
} from '../business/audit-log.js';
import { AuditEventRow } from './entities.js';

/** toAuditEvent converts a row to the business value. */
export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    action: row.action,
    occurredAt: row.occurredAt,
    subgraph: row.subgraph,
    actorId: row.actorId,
    targetType: row.targetType,
    targetId: row.targetId,
    ip: row.ip,
    userAgent: row.userAgent,
    traceId: row.traceId,
    metadata: row.metadata,
  };
}

/** CHAIN_LOCK makes one transaction at a time, in any audit process, extend the chain. */
const CHAIN_LOCK = 0x636861696e; // "chain"

function toChained(row: AuditEventRow): ChainedAuditEvent {
  return { ...toAuditEvent(row), seq: Number(row.chainSeq), prevHash: row.prevHash, hash: row.hash };
}

/**
 * PostgresAuditStore keeps the audit log on the audit subgraph's own database.
 * Appending is single-writer: a transaction-scoped advisory lock, held until
 * commit, so each batch reads the head the previous one committed and the
 * chain never forks, whatever the number of audit processes and relays.
 */
export class PostgresAuditStore implements AuditStore {
  private readonly events: Repository<AuditEventRow>;

  constructor(private readonly dataSource: DataSource) {
    this.events = dataSource.getRepository(AuditEventRow);
  }

  async list(filter: AuditFilter, limit: number, after: AuditPosition | undefined): Promise<AuditEvent[]> {
    const query = this.events
      .createQueryBuilder('e')
      .orderBy('e.occurred_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(limit + 1);
    if (filter.actorId) query.andWhere('e.actor_id = :actorId', { actorId: filter.actorId });
    if (filter.action) query.andWhere('e.action = :action', { action: filter.action });
    if (filter.targetType) query.andWhere('e.target_type = :targetType', { targetType: filter.targetType });
    if (filter.targetId) query.andWhere('e.target_id = :targetId', { targetId: filter.targetId });
    if (filter.from) query.andWhere('e.occurred_at >= :from', { from: filter.from });
    if (filter.to) query.andWhere('e.occurred_at < :to', { to: filter.to });
    if (after)
      query.andWhere('(e.occurred_at, e.id) < (:afterAt, :afterId)', { afterAt: after.occurredAt, afterId: after.id });
    return (await query.getMany()).map(toAuditEvent);
  }

  async append(
    events: readonly AuditEvent[],
    link: (head: ChainHead | null, fresh: AuditEvent[]) => ChainedAuditEvent[],
  ): Promise<number> {
    if (events.length === 0) return 0;
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock($1)`, [CHAIN_LOCK]);
      const known: { id: string }[] = await manager.query(`SELECT id FROM audit_events WHERE id = ANY($1::uuid[])`, [
        events.map((e) => e.id),
      ]);
      const seen = new Set(known.map((r) => r.id));
      const fresh: AuditEvent[] = [];
      for (const event of events) {
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        fresh.push(event);
      }
      if (fresh.length === 0) return 0;
      const heads: { chain_seq: string; hash: string }[] = await manager.query(
        `SELECT chain_seq, hash FROM audit_events ORDER BY chain_seq DESC LIMIT 1`,
      );
      const head = heads[0] ? { seq: Number(heads[0].chain_seq), hash: heads[0].hash } : null;
      const chained = link(head, fresh);
      await manager.query(
        `INSERT INTO audit_events (id, action, occurred_at, subgraph, actor_id, target_type, target_id, ip, user_agent, trace_id, metadata, chain_seq, prev_hash, hash)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(id uuid, action text, "occurredAt" timestamptz, subgraph text, "actorId" uuid,
           "targetType" text, "targetId" text, ip text, "userAgent" text, "traceId" text, metadata jsonb, seq bigint, "prevHash" text, hash text)`,
        [JSON.stringify(chained)],
      );
      return chained.length;
    });
  }

  async chainPage(afterSeq: number, limit: number): Promise<ChainedAuditEvent[]> {
    const rows = await this.events
      .createQueryBuilder('e')
      .where('e.chain_seq > :afterSeq', { afterSeq })
      .orderBy('e.chain_seq', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toChained);
  }

  async exportPage(from: Date, to: Date, afterSeq: number, limit: number): Promise<ChainedAuditEvent[]> {
    const rows = await this.events
      .createQueryBuilder('e')
      .where('e.chain_seq > :afterSeq', { afterSeq })
      .andWhere('e.occurred_at >= :from AND e.occurred_at < :to', { from, to })
      .orderBy('e.chain_seq', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toChained);
  }

  async eventsByIds(ids: readonly string[]): Promise<AuditEvent[]> {
    if (ids.length === 0) return [];
    return (await this.events.findBy({ id: anyOf(ids) })).map(toAuditEvent);
  }
}
