import type { AuditEvent } from '../../../contracts/audit.js';
import { AUDIT_CHAIN_GENESIS, auditChainHash } from '../../../foundation/events/audit-chain.js';
import type { Page } from '../../../foundation/core/pagination.js';

export type { AuditEvent } from '../../../contracts/audit.js';

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

/** ChainLink is an event's place in the audit chain. */
export interface ChainLink {
  /** seq is the event's position: 1, 2, 3… with no gap. */
  seq: number;
  prevHash: string;
  hash: string;
}

/** ChainHead is the chain's last link: where the next event attaches. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** ChainedAuditEvent is a stored event with its link in the chain. */
export interface ChainedAuditEvent extends AuditEvent, ChainLink {}

/** ChainBreak names the first event at which the chain does not hold, and why. */
export interface ChainBreak {
  seq: number;
  id: string;
  reason: string;
}

/** ChainReport is what verifying the chain found: how many events held, the last link, and the first break if any. */
export interface ChainReport {
  verified: number;
  head: ChainHead | null;
  broken: ChainBreak | null;
}

/** AuditStore is the storage the audit log needs; the store layer implements it. */
export interface AuditStore {
  /** list returns up to limit + 1 events older than `after`, newest first. */
  list(filter: AuditFilter, limit: number, after: AuditPosition | undefined): Promise<AuditEvent[]>;
  eventsByIds(ids: readonly string[]): Promise<AuditEvent[]>;
  /**
   * append stores, as one writer at a time, the events whose id is not stored
   * yet: it finds them and the chain's head, lets `link` chain them after it,
   * and inserts the result, all under one lock held to commit. It returns how
   * many were new.
   */
  append(
    events: readonly AuditEvent[],
    link: (head: ChainHead | null, fresh: AuditEvent[]) => ChainedAuditEvent[],
  ): Promise<number>;
  /** chainPage returns up to limit events after chain position afterSeq, in chain order. */
  chainPage(afterSeq: number, limit: number): Promise<ChainedAuditEvent[]>;
  /**
   * exportPage returns up to limit events that occurred in [from, to) after chain position afterSeq, in chain order.
   */
  exportPage(from: Date, to: Date, afterSeq: number, limit: number): Promise<ChainedAuditEvent[]>;
}

/** VERIFY_BATCH is how many events verification reads at a time. */
const VERIFY_BATCH = 1000;

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
   * again (a retry, a crash mid-batch), and its id makes the second copy a
   * no-op. New events become the next links of the hash chain, in the order
   * given (a relay sends each source's events in order).
   */
  ingest(events: readonly AuditEvent[]): Promise<number> {
    return this.store.append(events, (head, fresh) => {
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? AUDIT_CHAIN_GENESIS;
      return fresh.map((event) => {
        seq += 1;
        const hash = auditChainHash(prevHash, event);
        const chained = { ...event, seq, prevHash, hash };
        prevHash = hash;
        return chained;
      });
    });
  }

  /**
   * verify walks the whole chain from its first event and stops at the first
   * link that does not hold: a position out of sequence (events removed or
   * inserted), a previous-hash that is not the hash of the event before (that
   * one was rewritten, or one was put in between), or content that does not
   * give the stored hash (the event was changed).
   */
  async verify(onProgress?: (verified: number) => void): Promise<ChainReport> {
    let expected = 1;
    let prevHash = AUDIT_CHAIN_GENESIS;
    let head: ChainReport['head'] = null;
    for (;;) {
      const rows = await this.store.chainPage(expected - 1, VERIFY_BATCH);
      if (rows.length === 0) return { verified: expected - 1, head, broken: null };
      for (const row of rows) {
        const broken = (reason: string): ChainReport => ({
          verified: expected - 1,
          head,
          broken: { seq: row.seq, id: row.id, reason },
        });
        if (row.seq !== expected)
          return broken(
            `it is at position ${row.seq} where ${expected} was expected: events ${expected} to ${row.seq - 1} are missing`,
          );
        if (row.prevHash !== prevHash)
          return broken(
            'its previous-hash is not the hash of the event before it: that event was changed, or events were removed or put in between',
          );
        if (auditChainHash(prevHash, row) !== row.hash)
          return broken('its content does not match its hash: the event was changed');
        prevHash = row.hash;
        head = { seq: row.seq, hash: row.hash };
        expected += 1;
      }
      onProgress?.(expected - 1);
    }
  }

  /**
   * export yields every event that occurred in [from, to), in chain order, with its link (so a copy can be verified on
   * its own).
   */
  async *export(from: Date, to: Date): AsyncGenerator<ChainedAuditEvent> {
    let after = 0;
    for (;;) {
      const rows = await this.store.exportPage(from, to, after, VERIFY_BATCH);
      if (rows.length === 0) return;
      yield* rows;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** eventsByIds loads a batch of events (entity references). */
  eventsByIds(ids: readonly string[]): Promise<AuditEvent[]> {
    return this.store.eventsByIds(ids);
  }
}
