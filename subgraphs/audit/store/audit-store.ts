import { type DataSource, type Repository } from 'typeorm';
import { anyOf, returnedRows } from '../../../foundation/postgres.js';
import type { AuditEvent, AuditFilter, AuditPosition, AuditStore } from '../business/audit-log.js';
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

/** PostgresAuditStore reads the audit log on the audit subgraph's own database. */
export class PostgresAuditStore implements AuditStore {
  private readonly events: Repository<AuditEventRow>;

  constructor(dataSource: DataSource) {
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
    if (after) query.andWhere('(e.occurred_at, e.id) < (:afterAt, :afterId)', { afterAt: after.occurredAt, afterId: after.id });
    return (await query.getMany()).map(toAuditEvent);
  }

  async insertMany(events: readonly AuditEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows: unknown[] = await this.events.query(
      `INSERT INTO audit_events (id, action, occurred_at, subgraph, actor_id, target_type, target_id, ip, user_agent, trace_id, metadata)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(id uuid, action text, "occurredAt" timestamptz, subgraph text, "actorId" uuid,
         "targetType" text, "targetId" text, ip text, "userAgent" text, "traceId" text, metadata jsonb)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [JSON.stringify(events)],
    );
    return returnedRows(rows).length;
  }

  async eventsByIds(ids: readonly string[]): Promise<AuditEvent[]> {
    if (ids.length === 0) return [];
    return (await this.events.findBy({ id: anyOf(ids) })).map(toAuditEvent);
  }
}
