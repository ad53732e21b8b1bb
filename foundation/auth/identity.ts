import type { IncomingMessage } from 'node:http';
import { sendJson, type RouteHandler } from '../http/server.js';
import type { JWTPayload } from 'jose';
import { TokenVerifier, VerifiedTokens, type TokenSigner } from './tokens.js';
import { gatewayClaimsSchema, type Caller } from '../../contracts/caller.js';

/** GATEWAY_TOKEN_HEADER carries the gateway's signed statement of who is calling to every subgraph. */
export const GATEWAY_TOKEN_HEADER = 'x-fixup-gateway-token';

/** gatewayHeaders are the headers by which the gateway calls a subgraph's guarded route with a token it signed. */
export async function gatewayHeaders(token: () => Promise<string>): Promise<Record<string, string>> {
  return { [GATEWAY_TOKEN_HEADER]: await token() };
}

/**
 * GATEWAY_TOKEN_ISSUER pins the internal token to its one issuer; its audience names the one subgraph it is for
 * (gatewayAudience).
 */
export const GATEWAY_TOKEN_ISSUER = 'fixup-gateway';

/**
 * gatewayAudience is the audience of the gateway's tokens for one subgraph (`fixup-order`): a subgraph refuses a token
 * made for another.
 */
export function gatewayAudience(subgraph: string): string {
  return `fixup-${subgraph}`;
}

/** DEFAULT_GATEWAY_TOKEN_TTL_SECONDS keeps an internal token useless soon after the request it was made for. */
export const DEFAULT_GATEWAY_TOKEN_TTL_SECONDS = 60;

/** callerClaims are the claims that state a caller to a subgraph: roles, session, address and user agent. */
export function callerClaims(caller: Caller) {
  return {
    roles: caller.viewer?.roles ?? [],
    sid: caller.viewer?.sessionId ?? undefined,
    ip: caller.ip ?? undefined,
    ua: caller.userAgent ?? undefined,
  };
}

/**
 * signGatewayToken states the caller to one subgraph, signed by the gateway.
 * It says who calls and from where, never which request (that is the request
 * id header), so the gateway can reuse one token for a caller's requests to
 * that subgraph.
 */
export async function signGatewayToken(
  signer: TokenSigner,
  caller: Caller,
  subgraph: string,
  ttlSeconds = DEFAULT_GATEWAY_TOKEN_TTL_SECONDS,
): Promise<string> {
  const { token } = await signer.sign(callerClaims(caller), {
    issuer: GATEWAY_TOKEN_ISSUER,
    audience: gatewayAudience(subgraph),
    subject: caller.viewer?.id,
    ttlSeconds,
  });
  return token;
}

/**
 * statedCallers keeps the caller each verified claims object states (all of a Caller but its request id): the
 * verifier hands the same claims object for every request that reuses a token, so their schema is checked once.
 */
const statedCallers = new WeakMap<JWTPayload, Omit<Caller, 'requestId'>>();

function callerFromClaims(claims: JWTPayload, requestId: string): Caller {
  let stated = statedCallers.get(claims);
  if (!stated) {
    const { sub, roles, sid, ip, ua } = gatewayClaimsSchema.parse(claims);
    // Requests that reuse a token share its viewer, so nothing may change it.
    Object.freeze(roles);
    stated = {
      viewer: sub !== undefined ? Object.freeze({ id: sub, roles, sessionId: sid ?? null }) : null,
      ip: ip ?? null,
      userAgent: ua ?? null,
    };
    statedCallers.set(claims, stated);
  }
  return { ...stated, requestId };
}

/**
 * GatewayTrust is how a subgraph knows a request came through the gateway: it
 * verifies the gateway's signed token (keys from the gateway's JWKS), made for
 * this subgraph (audience `fixup-<subgraph>`), and reads the caller from it.
 * Anything without a valid token is refused, a token made for another
 * subgraph included.
 */
export class GatewayTrust {
  /**
   * verifier remembers the claims of tokens already checked, until they expire: the gateway reuses one token for a
   * caller's requests.
   */
  private readonly verifier: VerifiedTokens;

  constructor(
    gatewayJwksUrl: string,
    subgraph: string,
    private readonly maxVerified = 10_000,
  ) {
    this.verifier = new VerifiedTokens(
      new TokenVerifier({ jwksUrl: gatewayJwksUrl }, GATEWAY_TOKEN_ISSUER, gatewayAudience(subgraph)),
      maxVerified,
    );
  }

  /** callerOf returns the verified caller of a request, or null when it did not come through the gateway. */
  async callerOf(req: IncomingMessage, requestId: string): Promise<Caller | null> {
    return this.callerOfToken(req.headers[GATEWAY_TOKEN_HEADER], requestId);
  }

  /** callerOfToken is callerOf for a token given some other way (a WebSocket's connection_init payload). */
  async callerOfToken(token: unknown, requestId: string): Promise<Caller | null> {
    return (await this.statementOf(token, requestId))?.caller ?? null;
  }

  /**
   * statementOf verifies a gateway token and gives its caller with the token's claims (for claims beyond the caller's,
   * such as a socket's gateway id). `once` marks a token made for one use (a socket's, a subscription's), which is
   * not remembered.
   */
  async statementOf(
    token: unknown,
    requestId: string,
    options: { once?: boolean } = {},
  ): Promise<{ caller: Caller; claims: JWTPayload } | null> {
    if (typeof token !== 'string' || token.length === 0) return null;
    try {
      const claims = await this.verifier.verify(token, options);
      return { caller: callerFromClaims(claims, requestId), claims };
    } catch {
      return null;
    }
  }
}

/**
 * gatewayOnly guards a route the gateway itself calls: it answers only
 * requests that carry the gateway's token for this subgraph, with 401 for
 * anything else. Subgraphs calling each other use serviceOnly instead.
 */
export function gatewayOnly(trust: GatewayTrust, handle: RouteHandler): RouteHandler {
  return async (req, res, scope) => {
    if (!(await trust.callerOf(req, scope.requestId))) {
      scope.outcome = 'refused';
      return sendJson(res, 401, { error: 'internal routes answer calls made on behalf of the gateway only' });
    }
    return handle(req, res, scope);
  };
}
