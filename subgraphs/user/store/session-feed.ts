import type { DataSource } from 'typeorm';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { PostgresChangeFeed } from '../../../foundation/postgres/change-feed.js';
import { SESSION_SEQ_HEADER, type SessionFeedEvent } from '../../../contracts/session-events.js';
import type { SessionFeed } from '../business/accounts.js';

/** SessionEvent is one entry of the feed the gateways follow. */
export type SessionEvent = SessionFeedEvent;

/** Row is a row of session_events as pg reads it. */
interface Row {
  seq: string;
  kind: 'user' | 'session' | 'profile';
  user_id: string;
  session_id: string | null;
  token_version: number | null;
  created_at: Date;
}

function toEvent(row: Row): SessionEvent {
  return {
    seq: Number(row.seq),
    kind: row.kind,
    userId: row.user_id,
    sessionId: row.session_id,
    tokenVersion: row.token_version,
    at: row.created_at.toISOString(),
  };
}

/**
 * PostgresSessionFeed is the user subgraph's change feed: `session_events` (written under SESSION_EVENTS_LOCK by
 * PostgresUserStore), served by the generic PostgresChangeFeed. A new follower is replayed the events of the last
 * replaySeconds, enough to cover every live access token (a gateway that starts must know which are stale).
 */
export class PostgresSessionFeed extends PostgresChangeFeed<SessionEvent, Row> implements SessionFeed {
  constructor(dataSource: DataSource, listenUrl: string, replaySeconds: number, keepSeconds: number, logger: Logger) {
    super(dataSource, listenUrl, {
      table: 'session_events',
      channel: 'session_events',
      applicationName: 'fixup-user-session-feed',
      toEvent,
      seqHeader: SESSION_SEQ_HEADER,
      replaySeconds,
      keepSeconds,
      name: 'session feed',
      logger,
    });
  }
}
