import type { Page } from '../../../foundation/pagination.js';

/** AuditEvent is one recorded security-relevant action. */
export interface AuditEvent {
  id: string;
  action: string;
  occurredAt: Date;
  subgraph: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  traceId: string | null;
  metadata: Record<string, unknown>;
}

/** AuditFilter narrows the log; every field is optional and they combine with AND. */
export interface AuditFilter {
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
}

/** AuditPosition is a place in the log, newest first: the last event a page ended on. */
export interface AuditPosition {
  occurredAt: Date;
  id: string;
}

/** AuditStore is the storage the audit log needs; the store layer implements it. */
export interface AuditStore {
  /** list returns up to limit + 1 events older than `after`, newest first. */
  list(filter: AuditFilter, limit: number, after: AuditPosition | undefined): Promise<AuditEvent[]>;
  eventsByIds(ids: readonly string[]): Promise<AuditEvent[]>;
  /** insertMany stores events whose id is new and ignores the rest; it returns how many were new. */
  insertMany(events: readonly AuditEvent[]): Promise<number>;
}

/** AuditLog holds the rules for reading the audit trail. */
export class AuditLog {
  constructor(private readonly store: AuditStore) {}

  /** events returns one page of the log, newest first. */
  async events(filter: AuditFilter, first: number, after: AuditPosition | undefined): Promise<Page<AuditEvent>> {
    const rows = await this.store.list(filter, first, after);
    return { items: rows.slice(0, first), hasNextPage: rows.length > first, hasPreviousPage: after !== undefined };
  }

  /**
   * ingest stores delivered events exactly once: a relay may send an event
   * again (a retry, a crash mid-batch), and its id makes the second copy a no-op.
   */
  ingest(events: readonly AuditEvent[]): Promise<number> {
    return this.store.insertMany(events);
  }

  /** eventsByIds loads a batch of events (entity references). */
  eventsByIds(ids: readonly string[]): Promise<AuditEvent[]> {
    return this.store.eventsByIds(ids);
  }
}
