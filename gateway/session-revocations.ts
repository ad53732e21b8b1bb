import type { Logger } from '../foundation/telemetry/logger.js';
import { sessionFeedEventSchema, type SessionFeedEvent as SessionEvent } from '../contracts/session-events.js';
import { gatewayHeaders } from '../foundation/auth/identity.js';
import { FeedFollower } from '../foundation/http/feed-follower.js';

/** TokenState is what the feed says of an access token. */
export type TokenState = 'live' | 'stale' | 'revoked';

/**
 * SessionRevocations follows the user subgraph's session feed (a change feed,
 * foundation/http/feed-follower.ts) and answers, for any access token, whether a role
 * change or reset made it stale or its session ended. It keeps only what can
 * still matter: an event older than the longest access-token lifetime concerns
 * no live token. It also tells the gateway's entity cache which users' shared
 * fields changed (`profile` events).
 */
export class SessionRevocations extends FeedFollower<SessionEvent> {
  private readonly versions = new Map<string, { version: number; at: number }>();
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<(event: { userId: string; sessionId: string | null }) => void>();
  private pruner: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    gatewayToken: () => Promise<string>,
    private readonly windowMs: number,
    logger: Logger,
    silenceMs?: number,
  ) {
    super({
      name: 'session feed',
      url,
      credentials: () => gatewayHeaders(gatewayToken),
      schema: sessionFeedEventSchema,
      logger,
      silenceMs,
    });
  }

  /** start follows the feed until stop, and forgets what no live token can concern. */
  override start(): void {
    this.pruner = setInterval(() => this.prune(), 60_000).unref();
    super.start();
  }

  override stop(): void {
    clearInterval(this.pruner);
    super.stop();
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

  protected apply(e: SessionEvent): void {
    const at = Date.parse(e.at);
    if (e.kind === 'user' && e.tokenVersion !== null) {
      const known = this.versions.get(e.userId);
      if (!known || known.version < e.tokenVersion) this.versions.set(e.userId, { version: e.tokenVersion, at });
    } else if (e.kind === 'session' && e.sessionId) {
      this.revoked.set(e.sessionId, at);
    }
    if (e.kind === 'profile') this.changed('User', e.userId);
    else for (const listener of this.listeners) listener({ userId: e.userId, sessionId: e.sessionId });
  }

  private prune(): void {
    const horizon = Date.now() - this.windowMs;
    for (const [key, value] of this.versions) if (value.at < horizon) this.versions.delete(key);
    for (const [key, at] of this.revoked) if (at < horizon) this.revoked.delete(key);
  }
}
