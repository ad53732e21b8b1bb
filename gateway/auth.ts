import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { AppError, SessionStaleError, UnauthenticatedError } from '../foundation/core/errors.js';
import { rolesSchema, type Caller } from '../contracts/caller.js';
import { bearerToken, InvalidTokenError, VerifiedTokens, type TokenVerifier } from '../foundation/auth/tokens.js';
import type { SessionRevocations } from './session-revocations.js';

/** MAX_USER_AGENT bounds what is passed on and audited of the User-Agent header. */
const MAX_USER_AGENT = 512;

/** ProxyTrust tells whether an address is one of the deployment's own proxies (proxy-addr's compiled trust). */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * proxyTrust compiles the trusted proxies: addresses, CIDRs, or proxy-addr's
 * names `loopback`, `linklocal` and `uniquelocal`. None: no proxy is trusted.
 * It throws on a value that is none of these.
 */
export function proxyTrust(list: readonly string[]): ProxyTrust {
  return proxyaddr.compile([...list]);
}

/**
 * clientIp is the caller's address, with proxy-addr's semantics: walking
 * X-Forwarded-For from the socket backwards, the first address that is not a
 * trusted proxy. A client that forges the header only adds entries beyond the
 * first untrusted hop, which are never read; with no trusted proxy the header
 * is ignored.
 */
export function clientIp(req: IncomingMessage, trust: ProxyTrust): string | null {
  const socket = req.socket.remoteAddress;
  if (!socket) return null;
  const found = proxyaddr(req, trust);
  // A trusted proxy that passed on something that is not an address is believed no further than itself.
  return (isIP(found) ? found : socket).replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/**
 * fromTrustedProxy tells whether the request came straight from a trusted proxy, whose headers (traceparent) may be
 * believed.
 */
export function fromTrustedProxy(req: IncomingMessage, trust: ProxyTrust): boolean {
  const socket = req.socket.remoteAddress;
  return !!socket && trust(socket, 0);
}

/**
 * Authenticator turns an HTTP request into its Caller: no token is an
 * anonymous caller; a token must verify (algorithm, issuer, audience and
 * expiry pinned) and must not be stale or from an ended session.
 */
export class Authenticator {
  /**
   * verified remembers the claims of access tokens whose signature was checked,
   * until they expire: a client sends the same token with every request for
   * its lifetime, and an Ed25519 check per request cost a tenth of the
   * gateway's CPU. Staleness and ended sessions are still checked every time.
   */
  private readonly verified: VerifiedTokens;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly revocations: SessionRevocations,
    private readonly trust: ProxyTrust,
    maxVerified = 10_000,
  ) {
    this.verified = new VerifiedTokens(verifier, maxVerified);
  }

  /**
   * callerOf reads the Authorization header (or a token given directly, as graphql-ws does) and throws AppError when it
   * is refused.
   */
  async callerOf(req: IncomingMessage, requestId: string, authorization?: string): Promise<Caller> {
    return (await this.authenticate(req, requestId, authorization)).caller;
  }

  /** stillValid tells whether a caller's token has not been made stale or revoked since it was checked. */
  stillValid(caller: Caller, tokenVersion: number): boolean {
    return (
      !caller.viewer || this.revocations.stateOf(caller.viewer.id, tokenVersion, caller.viewer.sessionId) === 'live'
    );
  }

  /** authenticate is callerOf with what a long-lived connection needs too: when the token expires and its version. */
  async authenticate(
    req: IncomingMessage,
    requestId: string,
    authorization?: string,
  ): Promise<{ caller: Caller; expiresAt: number | null; tokenVersion: number }> {
    const base = {
      ip: clientIp(req, this.trust),
      userAgent: (req.headers['user-agent'] ?? '').slice(0, MAX_USER_AGENT) || null,
      requestId,
    };
    const token = bearerToken(authorization ?? req.headers.authorization);
    if (token === null) return { caller: { ...base, viewer: null }, expiresAt: null, tokenVersion: 0 };
    if (token === 'malformed')
      throw new UnauthenticatedError('The Authorization header must be "Bearer <accessToken>"');
    let claims;
    try {
      claims = await this.verified.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        throw new UnauthenticatedError(
          err.reason === 'ERR_JWT_EXPIRED' ? 'The access token has expired' : 'The access token is not valid',
        );
      }
      throw err;
    }
    const roles = Array.isArray(claims.roles) ? rolesSchema.parse(claims.roles) : null;
    if (typeof claims.sub !== 'string' || !roles || typeof claims.ver !== 'number')
      throw new UnauthenticatedError('The access token is not valid');
    const sessionId = typeof claims.sid === 'string' ? claims.sid : null;
    const state = this.revocations.stateOf(claims.sub, claims.ver, sessionId);
    if (state === 'revoked') throw new UnauthenticatedError('The session has ended');
    if (state === 'stale') throw new SessionStaleError();
    return {
      caller: { ...base, viewer: { id: claims.sub, roles, sessionId } },
      expiresAt: (claims.exp ?? 0) * 1000,
      tokenVersion: claims.ver,
    };
  }
}

/** refusal is the HTTP answer to a refused token: 401 with the contract's code. */
export function refusal(err: AppError): { status: number; body: unknown } {
  return { status: 401, body: { errors: [{ message: err.message, extensions: { code: err.code } }] } };
}
