import type { Logger } from '../foundation/telemetry/logger.js';
import {
  SESSION_FEED_HEARTBEAT_MS,
  sessionFeedEventSchema,
  type SessionFeedEvent as SessionEvent,
} from '../contracts/session-events.js';
import type { UserFeed } from './entity-cache.js';

/** TokenState is what the feed says of an access token. */
export type TokenState = 'live' | 'stale' | 'revoked';

/**
 * SessionRevocations follows the user subgraph's session feed (server-sent
 * events) and answers, for any access token, whether a role change or reset
 * made it stale or its session ended. It keeps only what can still matter: an
 * event older than the longest access-token lifetime concerns no live token.
 * It also tells the gateway's entity cache which users' shared fields changed
 * (`profile` events) and when the feed was out of sync (UserFeed).
 */
export class SessionRevocations implements UserFeed {
  private readonly versions = new Map<string, { version: number; at: number }>();
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<(event: { userId: string; sessionId: string | null }) => void>();
  private readonly profileListeners = new Set<(userId: string) => void>();
  private outageCount = 0;
  private lastSeq: number | null = null;
  private readonly waiters = new Set<{ seq: number; done: (reached: boolean) => void }>();
  private synced = false;
  private stopped = false;
  private abort: AbortController | undefined;
  private pruner: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly gatewayToken: () => Promise<string>,
    private readonly windowMs: number,
    private readonly logger: Logger,
    private readonly silenceMs = 3 * SESSION_FEED_HEARTBEAT_MS,
  ) {}

  /** start follows the feed until stop, reconnecting from the last event seen. */
  start(): void {
    this.pruner = setInterval(() => this.prune(), 60_000).unref();
    void this.follow();
  }

  /** isSynced tells whether the feed's replay has been read and the stream is up. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** outages counts the times the stream was lost after being in sync. */
  get outages(): number {
    return this.outageCount;
  }

  /** onProfileChange hears each `profile` event's user. */
  onProfileChange(listener: (userId: string) => void): () => void {
    this.profileListeners.add(listener);
    return () => this.profileListeners.delete(listener);
  }

  /** onChange hears every `user` and `session` event (open subscriptions use it to end sessions at once). */
  onChange(listener: (event: { userId: string; sessionId: string | null }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** stateOf judges an access token by its subject, token version and session. */
  stateOf(userId: string, tokenVersion: number, sessionId: string | null): TokenState {
    if (sessionId && this.revoked.has(sessionId)) return 'revoked';
    const current = this.versions.get(userId);
    return current && tokenVersion < current.version ? 'stale' : 'live';
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
    clearInterval(this.pruner);
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
        this.logger.warn({ err, retryInMs: delay }, 'session feed unavailable');
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
    const url = new URL(this.url);
    if (this.lastSeq !== null) url.searchParams.set('after', String(this.lastSeq));
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', 'x-fixup-gateway-token': await this.gatewayToken() },
      signal: this.abort.signal,
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`session feed answered HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    // A stream silent for three heartbeats is lost (a peer gone without closing the connection): follow again, and
    // count an outage, so nothing kept on the feed's word outlives it.
    const abort = this.abort;
    const silence = () => setTimeout(() => abort.abort(new Error('session feed silent')), this.silenceMs).unref();
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
    throw new Error('session feed closed');
  }

  private handle(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (event === 'synced') {
      if (!this.synced) this.logger.info({ lastSeq: this.lastSeq }, 'session feed in sync');
      this.synced = true;
      return;
    }
    if (event !== 'message' || !data) return;
    const parsed = sessionFeedEventSchema.safeParse(JSON.parse(data));
    if (!parsed.success) {
      this.logger.warn(
        { issues: parsed.error.issues.slice(0, 3) },
        'session feed sent an event its contract does not allow; skipped',
      );
      return;
    }
    const e: SessionEvent = parsed.data;
    const at = Date.parse(e.at);
    if (e.kind === 'user' && e.tokenVersion !== null) {
      const known = this.versions.get(e.userId);
      if (!known || known.version < e.tokenVersion) this.versions.set(e.userId, { version: e.tokenVersion, at });
    } else if (e.kind === 'session' && e.sessionId) {
      this.revoked.set(e.sessionId, at);
    }
    this.lastSeq = e.seq;
    if (e.kind === 'profile') for (const listener of this.profileListeners) listener(e.userId);
    else for (const listener of this.listeners) listener({ userId: e.userId, sessionId: e.sessionId });
    for (const waiter of this.waiters) if (waiter.seq <= e.seq) waiter.done(true);
  }

  private prune(): void {
    const horizon = Date.now() - this.windowMs;
    for (const [key, value] of this.versions) if (value.at < horizon) this.versions.delete(key);
    for (const [key, at] of this.revoked) if (at < horizon) this.revoked.delete(key);
  }
}
