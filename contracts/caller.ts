import { z } from 'zod';

/**
 * Role is what a user may act as: the one list of roles, for tokens, permissions and the user subgraph's GraphQL enum.
 */
export const Role = z.enum(['CUSTOMER', 'PROVIDER', 'ADMIN']);
export type Role = z.infer<typeof Role>;

/**
 * ACCESS_TOKEN_ISSUER and ACCESS_TOKEN_AUDIENCE are the default `iss` and `aud` of the access tokens the user subgraph
 * signs and the gateway checks (each may be set otherwise, to the same value on both sides).
 */
export const ACCESS_TOKEN_ISSUER = 'fixup-user';
export const ACCESS_TOKEN_AUDIENCE = 'fixup';

/** ROLES lists every Role, in the contract's order. */
export const ROLES: readonly Role[] = Role.options;

/** rolesSchema reads a list of roles from outside (a token's claim), keeping the known ones and dropping the rest. */
export const rolesSchema = z
  .array(z.unknown())
  .catch([])
  .transform((list) => list.filter((r): r is Role => Role.safeParse(r).success));

/** viewerSchema is the signed-in user a request acts for, as the gateway verified it. */
export const viewerSchema = z.object({
  id: z.string(),
  roles: z.array(Role),
  /** sessionId is the login (refresh-token family) the access token belongs to. */
  sessionId: z.string().nullable(),
});
export type Viewer = z.infer<typeof viewerSchema>;

/** callerSchema is everything a subgraph knows of who sent a request and from where. */
export const callerSchema = z.object({
  viewer: viewerSchema.nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string(),
  /** gatewayToken is the token a subgraph was sent, for the internal calls it makes on the same caller's behalf. */
  gatewayToken: z.string().optional(),
  /** traceparent is the request's W3C trace context here: audit events name its trace, internal calls continue it. */
  traceparent: z.string().optional(),
  /**
   * feedPositions are how far the gateway knew the change feeds this subgraph follows to have come when it sent the
   * request, by the feed's owner (contracts/feeds.ts, FEED_POSITIONS_HEADER): what this subgraph keeps of a feed
   * answers the request only when its own copy is at least that far.
   */
  feedPositions: z.record(z.string(), z.number().int()).optional(),
});
export type Caller = z.infer<typeof callerSchema>;

/** SignedInCaller is a Caller the permission layer has found signed in: resolvers behind `isSignedIn` get this type. */
export type SignedInCaller = Caller & { viewer: Viewer };

/** isSignedIn tells whether a caller acts for a signed-in user, and narrows it. */
export function isSignedIn(caller: Caller): caller is SignedInCaller {
  return caller.viewer !== null;
}

/**
 * gatewayClaimsSchema reads the claims of the gateway's signed statement of the
 * caller (the token every subgraph is sent): subject, roles, session, address
 * and user agent. Malformed optional claims read as absent.
 */
export const gatewayClaimsSchema = z.object({
  sub: z.string().optional().catch(undefined),
  roles: rolesSchema.optional().transform((r) => r ?? []),
  sid: z.string().optional().catch(undefined),
  ip: z.string().optional().catch(undefined),
  ua: z.string().optional().catch(undefined),
});
export type GatewayClaims = z.infer<typeof gatewayClaimsSchema>;
