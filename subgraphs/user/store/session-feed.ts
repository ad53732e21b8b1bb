import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { SESSION_SEQ_HEADER, type SessionFeedEvent } from '../../../contracts/session-events.js';
import type { SessionFeed } from '../business/accounts.js';

/** SessionEvent is one entry of the feed the gateways follow. */
export type SessionEvent = SessionFeedEvent;

/** FeedSubscriber receives events in sequence order, each once. */
export interface FeedSubscriber {
  send(event: SessionEvent): void;
  /** end closes the subscriber's stream: the feed can no longer promise every event (its listener is lost). */
  end(): void;
}

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
 * PostgresSessionFeed serves `session_events` to subscribers: first what they
 * missed, then each new event as it commits. It wakes on LISTEN/NOTIFY (so
 * events written by any instance reach every instance's subscribers) and when
 * told directly, which lets a mutation publish before it answers.
 */
export class PostgresSessionFeed implements SessionFeed {
  private readonly subscribers = new Map<FeedSubscriber, { lastSeq: number }>();

  /** subscriberCount is how many followers the feed has now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }
  private lastSeen = 0;
  private chain: Promise<void> = Promise.resolve();
  private listener: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly listenUrl: string,
    private readonly replaySeconds: number,
    private readonly logger: Logger,
  ) {}

  /** start listens for new events and remembers where the feed is now. */
  async start(): Promise<void> {
    const rows: { seq: string | null }[] = await this.dataSource.query(`SELECT max(seq) AS seq FROM session_events`);
    this.lastSeen = Number(rows[0]?.seq ?? 0);
    await this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    // keepAlive: a listener whose peer vanished without closing is found by TCP and reported as an error.
    const client = new pg.Client({
      connectionString: this.listenUrl,
      application_name: 'fixup-user-session-feed',
      keepAlive: true,
    });
    client.on('notification', () => void this.publishPending());
    client.on('error', (err) => {
      this.logger.warn({ err }, 'session feed listener lost; reconnecting');
      client.end().catch(() => {});
      if (this.listener !== client) return;
      this.listener = undefined;
      // Events other instances commit meanwhile would not reach these streams: end them (each gateway counts an
      // outage and follows again, here once the listener is back, or on another instance).
      for (const subscriber of this.subscribers.keys()) subscriber.end();
      this.subscribers.clear();
      this.relisten();
    });
    try {
      await client.connect();
      await client.query('LISTEN session_events');
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      // Closed while this listener connected (a retry during shutdown).
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    // Events committed while no one listened are picked up now.
    await this.publishPending();
  }

  /** relisten tries to listen again every second until it does (or the feed closes). */
  private relisten(): void {
    setTimeout(
      () =>
        void this.listen().catch((err) => {
          this.logger.error({ err }, 'session feed listener failed; trying again');
          this.relisten();
        }),
      1000,
    ).unref();
  }

  /** listening tells whether the feed hears every instance's events; a stream is only served while it does. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /**
   * publish sends every event committed since the last one to every subscriber,
   * in order. A request calls it after its transaction committed: once it
   * returns, the feed's sequence number (answerHeaders) is at or past every
   * event the request wrote.
   */
  async publish(): Promise<void> {
    await this.publishPending();
  }

  /**
   * answerHeaders marks a mutation's answer with the feed's sequence number, at or past every event the mutation
   * published: the gateway waits for its feed to reach it before answering the client. A number past the mutation's own
   * events (another request's, published meanwhile) only names an event that exists.
   */
  answerHeaders(operation: string | undefined): Record<string, string> {
    return operation === 'mutation' && this.lastSeen > 0 ? { [SESSION_SEQ_HEADER]: String(this.lastSeen) } : {};
  }

  private publishPending(): Promise<void> {
    this.chain = this.chain
      .then(async () => {
        const rows: Row[] = await this.dataSource.query(`SELECT * FROM session_events WHERE seq > $1 ORDER BY seq`, [
          this.lastSeen,
        ]);
        for (const row of rows) {
          const event = toEvent(row);
          this.lastSeen = event.seq;
          for (const [subscriber, state] of this.subscribers) {
            if (event.seq > state.lastSeq) {
              subscriber.send(event);
              state.lastSeq = event.seq;
            }
          }
        }
      })
      .catch((err) => this.logger.error({ err }, 'session feed publish failed'));
    return this.chain;
  }

  /**
   * subscribe replays the events after `after` (or, for a new subscriber,
   * those young enough to concern a live access token) and then delivers new
   * ones; it resolves once the replay is sent.
   */
  subscribe(subscriber: FeedSubscriber, after: number | null): Promise<void> {
    const replay = this.chain.then(async () => {
      const rows: Row[] =
        after === null
          ? await this.dataSource.query(
              `SELECT * FROM session_events WHERE created_at > now() - make_interval(secs => $1) AND seq <= $2 ORDER BY seq`,
              [this.replaySeconds, this.lastSeen],
            )
          : await this.dataSource.query(`SELECT * FROM session_events WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [
              after,
              this.lastSeen,
            ]);
      for (const row of rows) subscriber.send(toEvent(row));
      if (!this.listener) {
        // The listener was lost during the replay: this stream could not promise every event.
        subscriber.end();
        return;
      }
      this.subscribers.set(subscriber, { lastSeq: Math.max(after ?? 0, this.lastSeen) });
    });
    this.chain = replay.catch(() => {});
    return replay;
  }

  /** unsubscribe stops sending to a subscriber. */
  unsubscribe(subscriber: FeedSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  /** close stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    await this.listener?.end().catch(() => {});
  }
}
