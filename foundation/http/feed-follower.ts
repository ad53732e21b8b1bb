import type { z } from 'zod';
import type { Logger } from '../telemetry/logger.js';
import { FEED_HEARTBEAT_MS, feedSyncedSchema } from '../../contracts/feeds.js';

/**
 * EntityFeed is what a keeper of another subgraph's entity fields (the gateway's entity cache, gateway/entity-cache.ts)
 * reads of that subgraph's change feed.
 */
export interface EntityFeed {
  /** isSynced: the feed's replay is read and its stream is up, so every change reaches the follower. */
  readonly isSynced: boolean;
  /** outages counts the times the feed went out of sync: what was kept before one may have missed a change. */
  readonly outages: number;
  /** onEntityChange hears each change of an entity's shared fields (contracts/shared-entities.ts), by type and id. */
  onEntityChange(listener: (typename: string, id: string) => void): () => void;
}

/** FeedOptions configure a follower of one subgraph's change feed. */
export interface FeedOptions<E extends { seq: number }> {
  /** name names the feed in logs (`session feed`, `catalog feed`). */
  name: string;
  /** url is the feed's internal route on the subgraph (contracts/internal-routes.ts). */
  url: string;
  /**
   * credentials gives the headers that let the follower in: a gateway's token for the subgraph, or a subgraph's own
   * internal credentials where the feed serves subgraphs too (the catalog feed serves order).
   */
  credentials: () => Promise<Record<string, string>>;
  /** schema parses each event (the feed's contract); an event it refuses is logged and counted as an outage. */
  schema: z.ZodType<E>;
  logger: Logger;
  /** silenceMs: a stream silent this long is taken as lost (three heartbeats). */
  silenceMs?: number;
}

/**
 * FeedFollower follows one subgraph's change feed (contracts/feeds.ts: server-sent events, replay after the last
 * sequence seen, `synced`, heartbeats), applies each event in order (`apply`, the subclass's), reconnects with a
 * backoff from the last event seen, and counts outages: each time a stream that was in sync is lost, whatever was
 * concluded from the feed before may have missed a change. waitFor lets an answer wait until the feed reached the
 * sequence its mutation named (read-your-writes), and position tells how far the follower's copy has come.
 * Subclasses: the gateway's SessionRevocations (user's session feed) and CatalogFeed, and order's KeptSkills
 * (subgraphs/order/store/kept-skills.ts).
 */
export abstract class FeedFollower<E extends { seq: number }> implements EntityFeed {
  private outageCount = 0;
  private lastSeq: number | null = null;
  private readonly waiters = new Set<{ seq: number; done: (reached: boolean) => void }>();
  private readonly entityListeners = new Set<(typename: string, id: string) => void>();
  private synced = false;
  private stopped = false;
  private abort: AbortController | undefined;
  private readonly silenceMs: number;

  constructor(private readonly feed: FeedOptions<E>) {
    this.silenceMs = feed.silenceMs ?? 3 * FEED_HEARTBEAT_MS;
  }

  /** apply takes one event of the feed into the subclass's state; events come in sequence order, each once. */
  protected abstract apply(event: E): void;

  /** start follows the feed until stop, reconnecting from the last event seen. */
  start(): void {
    void this.follow();
  }

  /** isSynced tells whether the feed's replay has been read and the stream is up. */
  get isSynced(): boolean {
    return this.synced;
  }

  /**
   * position is the sequence of the last event applied (or the feed's position when it was last in sync), null before
   * the feed was first reached: everything the feed published up to it is applied.
   */
  get position(): number | null {
    return this.lastSeq;
  }

  /** outages counts the times the stream was lost after being in sync. */
  get outages(): number {
    return this.outageCount;
  }

  /** onEntityChange hears each change of a shared entity field that the subclass reports (changed). */
  onEntityChange(listener: (typename: string, id: string) => void): () => void {
    this.entityListeners.add(listener);
    return () => this.entityListeners.delete(listener);
  }

  /** changed tells the entity cache's listeners that an entity's shared fields changed. */
  protected changed(typename: string, id: string): void {
    for (const listener of this.entityListeners) listener(typename, id);
  }

  /**
   * waitFor resolves true once the feed's events up to seq are applied (at
   * once if they are), or false after timeoutMs or at stop: the gateway that
   * served a change waits for it before answering (read-your-writes).
   */
  waitFor(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.lastSeq !== null && this.lastSeq >= seq) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        seq,
        done: (reached: boolean) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    for (const waiter of this.waiters) waiter.done(false);
  }

  private async follow(): Promise<void> {
    let delay = 250;
    while (!this.stopped) {
      try {
        await this.readStream();
        delay = 250;
      } catch (err) {
        if (this.stopped) break;
        // At start the feed's owner may still be starting (processes start together): said once it lasts.
        const starting = this.lastSeq === null && delay < 4_000;
        this.feed.logger[starting ? 'debug' : 'warn']({ err, retryInMs: delay }, `${this.feed.name} unavailable`);
      }
      if (this.synced) {
        // A stream that was in sync ended: follow again soon, whatever the backoff had grown to before.
        this.outageCount++;
        delay = 250;
      }
      this.synced = false;
      if (this.stopped) break;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(delay * 2, 5_000);
    }
  }

  private async readStream(): Promise<void> {
    this.abort = new AbortController();
    const url = new URL(this.feed.url);
    if (this.lastSeq !== null) url.searchParams.set('after', String(this.lastSeq));
    const res = await fetch(url, {
      headers: { ...(await this.feed.credentials()), accept: 'text/event-stream' },
      signal: this.abort.signal,
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`${this.feed.name} answered HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    // A stream silent for three heartbeats is lost (a peer gone without closing the connection): follow again, and
    // count an outage, so nothing kept on the feed's word outlives it.
    const abort = this.abort;
    const silence = () => setTimeout(() => abort.abort(new Error(`${this.feed.name} silent`)), this.silenceMs).unref();
    let timer = silence();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(timer);
        timer = silence();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } finally {
      clearTimeout(timer);
    }
    throw new Error(`${this.feed.name} closed`);
  }

  private handle(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (event === 'synced') {
      // The feed's position: a follower that has seen no event yet resumes from it, and a wait for a sequence the
      // replay did not need to send (a mutation that wrote no event) ends.
      const position = feedSyncedSchema.safeParse(data ? JSON.parse(data) : {});
      if (position.success && position.data.seq > (this.lastSeq ?? -1)) this.reached(position.data.seq);
      if (!this.synced) this.feed.logger.info({ lastSeq: this.lastSeq }, `${this.feed.name} in sync`);
      this.synced = true;
      return;
    }
    if (event !== 'message' || !data) return;
    const parsed = this.feed.schema.safeParse(JSON.parse(data));
    if (!parsed.success) {
      this.feed.logger.warn(
        { issues: parsed.error.issues.slice(0, 3) },
        `${this.feed.name} sent an event its contract does not allow; what it kept on the feed's word is dropped`,
      );
      // What the event changed cannot be known (a kind of a newer subgraph, say): counted as an outage, so nothing
      // kept on this feed's word outlives it; its position still counts, so a wait for it ends.
      this.outageCount++;
      const seq = (JSON.parse(data) as { seq?: unknown }).seq;
      if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > (this.lastSeq ?? -1)) this.reached(seq);
      return;
    }
    const e = parsed.data;
    // The position first: an event whose applying fails is not replayed again and again.
    this.lastSeq = e.seq;
    this.apply(e);
    this.reached(e.seq);
  }

  /** reached records the feed's position and ends the waits it satisfies. */
  private reached(seq: number): void {
    this.lastSeq = seq;
    for (const waiter of this.waiters) if (waiter.seq <= seq) waiter.done(true);
  }
}
