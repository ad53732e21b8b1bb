import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from '../telemetry/logger.js';
import { PRUNE_BATCH } from './privileges.js';

/** FeedSubscriber receives a change feed's events in sequence order, each once. */
export interface FeedSubscriber<E> {
  send(event: E): void;
  /** end closes the subscriber's stream: the feed can no longer promise every event (its listener is lost). */
  end(): void;
}

/**
 * ChangeFeed is what serves a change feed (contracts/feeds.ts) to its followers: the route of
 * foundation/http/change-feed-route.ts needs no more.
 */
export interface ChangeFeed<E> {
  /** name names the feed in log lines and answers ("session feed"). */
  readonly name: string;
  /** listening tells whether the feed hears every instance's events; a stream is only served while it does. */
  readonly listening: boolean;
  /** subscribe replays what the subscriber missed, then follows; it gives the feed's position, or null if it ended. */
  subscribe(subscriber: FeedSubscriber<E>, after: number | null): Promise<number | null>;
  unsubscribe(subscriber: FeedSubscriber<E>): void;
}

/** ChangeFeedOptions say which table a PostgresChangeFeed serves, and how. */
export interface ChangeFeedOptions<E extends { seq: number }, R> {
  /**
   * table holds the events: a `seq` bigserial, a `created_at` timestamptz, and a trigger that NOTIFYs `channel` after
   * each insert. A constant of the code, never input (it is written into SQL).
   */
  table: string;
  /** channel is the NOTIFY channel of the table's trigger; a constant of the code as well. */
  channel: string;
  /** applicationName names the listening connection in pg_stat_activity (`fixup-user-session-feed`). */
  applicationName: string;
  /** toEvent turns a row of the table (every column, as pg reads it) into the event the followers get. */
  toEvent: (row: R) => E;
  /** seqHeader is the answer header that names the feed's sequence after a mutation (read-your-writes). */
  seqHeader: string;
  /**
   * replaySeconds is how far back a new follower (one that names no sequence) is replayed: the events younger than
   * that; 0 replays nothing, the follower starts at the present.
   */
  replaySeconds: number;
  /**
   * keepSeconds is how long events are kept: older ones are deleted at start and every PRUNE_EVERY_MS, by the table's
   * pruning function `prune_<table>(keep_seconds)` that a migration made (owned by the owner role, SECURITY DEFINER:
   * the runtime role may not delete events itself). It keeps at least a day, at least replaySeconds, and always the
   * newest event, which holds the feed's position. A follower whose stream was lost that long drops what it kept on the
   * feed's word anyway (an outage), and the session feed's events concern no live token after the token's lifetime.
   */
  keepSeconds: number;
  /** name names the feed in log lines and answers ("session feed"). */
  name: string;
  logger: Logger;
}

/** SQL_NAME is what a table or channel name must look like: they are written into SQL as they are. */
const SQL_NAME = /^[a-z_]+$/;

/** MAX_PRUNE_BATCHES bounds one prune: the rest of a very long backlog goes at the next. */
const MAX_PRUNE_BATCHES = 100;

/** PRUNE_EVERY_MS is how often a feed deletes the events older than its keepSeconds. */
export const PRUNE_EVERY_MS = 3_600_000;

/** RELISTEN_MS is how long a feed whose listener is lost waits before each try to listen again. */
const RELISTEN_MS = 1000;

/**
 * PostgresChangeFeed serves a table of events to subscribers: first what they missed, then each new event as it
 * commits. It wakes on LISTEN/NOTIFY (so events written by any instance reach every instance's subscribers) and when
 * told directly, which lets a mutation publish before it answers. Writers must commit the table's sequence numbers in
 * order (a transaction-scoped advisory lock around the insert): the feed reads past the last sequence it saw, and a
 * number committed late behind it would never be sent.
 */
export class PostgresChangeFeed<E extends { seq: number }, R = Record<string, unknown>> implements ChangeFeed<E> {
  private readonly subscribers = new Map<FeedSubscriber<E>, { lastSeq: number }>();
  private lastSeen = 0;
  private chain: Promise<void> = Promise.resolve();
  private listener: pg.Client | undefined;
  private closed = false;
  private pruner: NodeJS.Timeout | undefined;
  /** queued is the read of new events that waits its turn on the chain, if any: later wake-ups share it. */
  private queued: Promise<void> | undefined;

  /** name names the feed in log lines and answers. */
  readonly name: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly listenUrl: string,
    private readonly options: ChangeFeedOptions<E, R>,
  ) {
    if (!SQL_NAME.test(options.table)) throw new Error(`change feed table ${options.table} is not a plain name`);
    if (!SQL_NAME.test(options.channel)) throw new Error(`change feed channel ${options.channel} is not a plain name`);
    this.name = options.name;
  }

  /** subscriberCount is how many followers the feed has now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** start listens for new events and remembers where the feed is now. */
  async start(): Promise<void> {
    const rows: { seq: string | null }[] = await this.dataSource.query(
      `SELECT max(seq) AS seq FROM ${this.options.table}`,
    );
    this.lastSeen = Number(rows[0]?.seq ?? 0);
    await this.listen();
    this.pruner = setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref();
    void this.prune();
  }

  /**
   * prune deletes the events older than keepSeconds (see ChangeFeedOptions) and gives how many went; a failure is
   * logged, and the next prune tries again.
   */
  async prune(): Promise<number> {
    const { table, keepSeconds, replaySeconds, logger, name } = this.options;
    const keep = Math.max(keepSeconds, replaySeconds);
    let pruned = 0;
    try {
      // A batch at a time (PRUNE_BATCH), each its own statement well within the pool's statement timeout, until one
      // comes back short: a long backlog goes in pieces.
      for (let batches = 0; batches < MAX_PRUNE_BATCHES; batches++) {
        const rows: { pruned: number }[] = await this.dataSource.query(`SELECT prune_${table}($1) AS pruned`, [keep]);
        const batch = rows[0]?.pruned ?? 0;
        pruned += batch;
        if (batch < PRUNE_BATCH) break;
      }
    } catch (err) {
      logger.warn({ err, pruned }, `${name}: old events not deleted; trying again later`);
    }
    if (pruned > 0) logger.info({ pruned, keepSeconds: keep }, `${name}: old events deleted`);
    return pruned;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const { logger, name } = this.options;
    // keepAlive: a listener whose peer vanished without closing is found by TCP and reported as an error.
    const client = new pg.Client({
      connectionString: this.listenUrl,
      application_name: this.options.applicationName,
      keepAlive: true,
    });
    client.on('notification', () => void this.publishPending());
    client.on('error', (err) => {
      logger.warn({ err }, `${name} listener lost; reconnecting`);
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
      await client.query(`LISTEN ${this.options.channel}`);
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
          this.options.logger.error({ err }, `${this.options.name} listener failed; trying again`);
          this.relisten();
        }),
      RELISTEN_MS,
    ).unref();
  }

  /** listening tells whether the feed hears every instance's events; a stream is only served while it does. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /**
   * publish sends every event committed since the last one to every subscriber, in order. A request calls it after its
   * transaction committed: once it returns, the feed's sequence number (answerHeaders) is at or past every event the
   * request wrote. It never rejects: a failure is logged, and the next publish or notification sends what this one
   * could not (a mutation that committed is not failed for it).
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
    return operation === 'mutation' && this.lastSeen > 0 ? { [this.options.seqHeader]: String(this.lastSeen) } : {};
  }

  private publishPending(): Promise<void> {
    // Wake-ups that come while one read waits its turn share that read, which sees whatever committed before it
    // starts: a burst of N notifications (a script adding many rows) costs a read or two, not N.
    if (this.queued) return this.queued;
    const queued = this.chain
      .then(async () => {
        this.queued = undefined;
        const rows: R[] = await this.dataSource.query(
          `SELECT * FROM ${this.options.table} WHERE seq > $1 ORDER BY seq`,
          [this.lastSeen],
        );
        for (const row of rows) {
          const event = this.options.toEvent(row);
          this.lastSeen = event.seq;
          for (const [subscriber, state] of this.subscribers) {
            if (event.seq > state.lastSeq) {
              subscriber.send(event);
              state.lastSeq = event.seq;
            }
          }
        }
      })
      .catch((err) => this.options.logger.error({ err }, `${this.options.name} publish failed`));
    this.queued = queued;
    this.chain = queued;
    return queued;
  }

  /**
   * subscribe replays the events after `after` (or, for a new subscriber, those younger than the feed's replaySeconds)
   * and then delivers new ones; it resolves once the replay is sent, with the feed's position then (every event up to
   * it is sent or was before `after`), or null when the stream was ended instead.
   */
  subscribe(subscriber: FeedSubscriber<E>, after: number | null): Promise<number | null> {
    const { table, replaySeconds } = this.options;
    const replay = this.chain.then(async () => {
      const rows: R[] =
        after !== null
          ? await this.dataSource.query(`SELECT * FROM ${table} WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [
              after,
              this.lastSeen,
            ])
          : replaySeconds > 0
            ? await this.dataSource.query(
                `SELECT * FROM ${table} WHERE created_at > now() - make_interval(secs => $1) AND seq <= $2 ORDER BY seq`,
                [replaySeconds, this.lastSeen],
              )
            : [];
      for (const row of rows) subscriber.send(this.options.toEvent(row));
      if (!this.listener) {
        // The listener was lost during the replay: this stream could not promise every event.
        subscriber.end();
        return null;
      }
      const position = Math.max(after ?? 0, this.lastSeen);
      this.subscribers.set(subscriber, { lastSeq: position });
      return position;
    });
    this.chain = replay.then(
      () => {},
      () => {},
    );
    return replay;
  }

  /** unsubscribe stops sending to a subscriber. */
  unsubscribe(subscriber: FeedSubscriber<E>): void {
    this.subscribers.delete(subscriber);
  }

  /** close stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruner);
    this.subscribers.clear();
    await this.listener?.end().catch(() => {});
  }
}
