import { signGatewayToken } from '../foundation/auth/identity.js';
import type { Caller } from '../contracts/caller.js';
import type { TokenSigner } from '../foundation/auth/tokens.js';

/** InternalTokenCacheOptions sizes the cache of internal tokens. */
export interface InternalTokenCacheOptions {
  signer: TokenSigner;
  /** ttlSeconds is each token's lifetime. */
  ttlSeconds: number;
  /** maxEntries bounds how many callers' tokens are kept; the least recently used go first. */
  maxEntries: number;
}

/** statementKeys holds each caller's key while the caller lives (a request's, or a subscription's for its lifetime). */
const statementKeys = new WeakMap<Caller, string>();

/**
 * callerStatementKey is what the gateway's statement of a caller states (user, session, roles, address, user agent):
 * equal keys, equal statements. A caller is never changed once made, so its key is made once: the callers' cache
 * (gateway/caller-entity-cache.ts) holds the same string for every answer kept for a subscription's caller.
 */
export function callerStatementKey(caller: Caller): string {
  let key = statementKeys.get(caller);
  if (key === undefined) {
    const viewer = caller.viewer;
    key = viewer
      ? `${viewer.id}\n${viewer.sessionId ?? ''}\n${viewer.roles.join(',')}\n${caller.ip ?? ''}\n${caller.userAgent ?? ''}`
      : `\n\n\n${caller.ip ?? ''}\n${caller.userAgent ?? ''}`;
    statementKeys.set(caller, key);
  }
  return key;
}

interface Entry {
  token: Promise<string>;
  /** renewAt is when the token stops being handed out (ms since the epoch), shortly before it expires. */
  renewAt: number;
}

/**
 * InternalTokenCache hands out the gateway's signed statement of a caller for
 * one subgraph, signing it once per caller and subgraph and reusing it until
 * shortly before it expires. Signing an Ed25519 token per request cost about a
 * tenth of the gateway's CPU. A token states only who calls and from where
 * (user, roles, session, address, user agent), never the request, so the same
 * caller's requests may share it; the request id travels in its own header.
 * Entries are per subgraph: a token names the one subgraph it is for (its audience).
 */
export class InternalTokenCache {
  private readonly entries = new Map<string, Entry>();
  /** renewMarginMs keeps a handed-out token valid long enough for the fetch it is sent with. */
  private readonly renewMarginMs: number;

  constructor(private readonly options: InternalTokenCacheOptions) {
    this.renewMarginMs = Math.min(10_000, (options.ttlSeconds * 1000) / 2);
  }

  /**
   * tokenFor gives a token stating caller to the named subgraph, signing a new one only when the cached one is missing
   * or near expiry.
   */
  tokenFor(caller: Caller, subgraph: string): Promise<string> {
    const key = `${subgraph}\n${callerStatementKey(caller)}`;
    const now = Date.now();
    const found = this.entries.get(key);
    if (found && found.renewAt > now) {
      // Re-inserting keeps the map in least-recently-used order.
      this.entries.delete(key);
      this.entries.set(key, found);
      return found.token;
    }
    const token = signGatewayToken(this.options.signer, caller, subgraph, this.options.ttlSeconds);
    const entry: Entry = { token, renewAt: now + this.options.ttlSeconds * 1000 - this.renewMarginMs };
    // A failed signature is not cached: the next request tries again.
    token.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return token;
  }

  /** size is how many tokens are cached. */
  get size(): number {
    return this.entries.size;
  }
}
