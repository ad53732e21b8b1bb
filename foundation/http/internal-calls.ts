import { createHash, timingSafeEqual } from 'node:crypto';
import { gatewayOnly, type GatewayTrust } from '../auth/identity.js';
import { propagateTrace } from '../telemetry/tracing.js';
import { Pool } from 'undici';
import type { z } from 'zod';
import type { Caller } from '../../contracts/caller.js';
import type { InternalGetRoute } from '../../contracts/internal-routes.js';
import { REQUEST_ID_HEADER, sendJson, type RouteHandler } from './server.js';

/** InternalCallError says another subgraph's internal route failed; it is unexpected for clients. */
export class InternalCallError extends Error {}

/** SERVICE_HEADER names the subgraph making an internal call (for logs; the secret is what is checked). */
export const SERVICE_HEADER = 'x-fixup-service';

/**
 * ServiceCredentials are a subgraph's own credentials for the internal routes
 * of other subgraphs: its name and the services' shared secret
 * (INTERNAL_CALL_SECRET). A subgraph never passes on the token the gateway
 * sent it: that token names the one subgraph it was made for.
 */
export interface ServiceCredentials {
  service: string;
  secret: string;
}

/** serviceHeaders are the headers by which a subgraph calls another's internal routes with its own credentials. */
export function serviceHeaders(credentials: ServiceCredentials): Record<string, string> {
  return { authorization: `Bearer ${credentials.secret}`, [SERVICE_HEADER]: credentials.service };
}

/** InternalCall is how a subgraph calls others' internal routes: its own credentials, and how long it waits. */
export interface InternalCall {
  credentials: ServiceCredentials;
  timeoutMs: number;
}

/**
 * pools keeps one keep-alive connection pool per origin this process calls
 * (a few subgraphs): Node's global fetch opened a connection setup, an abort
 * signal and a web stream per call, a fifth of the order subgraph's CPU on
 * `MatchingOrders` (docs/performance.md, lever 17; the gateway's lever 1).
 */
const pools = new Map<string, Pool>();

function poolOf(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 16, keepAliveTimeout: 4_000, pipelining: 1 });
    pools.set(origin, pool);
  }
  return pool;
}

/**
 * internalGet calls another subgraph's internal route (declared in
 * contracts/internal-routes.ts) on behalf of the caller: it sends this
 * subgraph's own credentials, the caller's request id and the trace context,
 * bounds the wait (undici's own timers, no abort signal per call), and parses
 * the reply with the route's schema.
 */
export async function internalGet<R extends z.ZodType>(
  baseUrl: string,
  route: InternalGetRoute<z.ZodObject, R>,
  query: Record<string, string>,
  caller: Caller,
  { credentials, timeoutMs }: InternalCall,
): Promise<z.output<R>> {
  const url = new URL(route.path, baseUrl);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const headers: Record<string, string> = {
    ...serviceHeaders(credentials),
    [REQUEST_ID_HEADER]: caller.requestId,
    accept: 'application/json',
  };
  propagateTrace(headers, caller.traceparent);
  let status: number;
  let body: unknown;
  try {
    const res = await poolOf(url.origin).request({
      path: url.pathname + url.search,
      method: 'GET',
      headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = res.statusCode;
    body = status >= 200 && status < 300 ? await res.body.json() : (await res.body.dump(), undefined);
  } catch (err) {
    throw new InternalCallError(`${url.pathname} failed: ${(err as Error).message}`, { cause: err });
  }
  if (status < 200 || status >= 300) throw new InternalCallError(`${url.pathname} answered HTTP ${status}`);
  const parsed = route.reply.safeParse(body);
  if (!parsed.success) throw new InternalCallError(`${url.pathname} answered a reply its contract does not allow`);
  return parsed.data;
}

/**
 * internalGetRoute serves an internal route (declared in contracts/internal-routes.ts)
 * to other Fixup services calling with their own credentials (serviceOnly):
 * the query is parsed with the
 * route's schema (400 when it does not fit), and the answer must be of the
 * route's reply type.
 */
export function internalGetRoute<Q extends z.ZodObject, R extends z.ZodType>(
  credentials: ServiceCredentials,
  route: InternalGetRoute<Q, R>,
  answer: (query: z.output<Q>) => Promise<z.input<R>>,
): Record<string, RouteHandler> {
  return {
    [`GET ${route.path}`]: serviceOnly(credentials, async (req, res) => {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const query = route.query.safeParse(Object.fromEntries(params));
      if (!query.success)
        return sendJson(res, 400, {
          error: 'bad query',
          issues: query.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
        });
      sendJson(res, 200, await answer(query.data));
    }),
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * gatewayOrService guards an internal route that both the gateway (its token for this subgraph) and other subgraphs
 * (their own credentials, as serviceOnly) may call, with 401 for anything else: the catalog's change feed, which
 * gateways and the order subgraph follow.
 */
export function gatewayOrService(
  trust: GatewayTrust,
  credentials: ServiceCredentials,
  handle: RouteHandler,
): RouteHandler {
  const asService = serviceOnly(credentials, handle);
  const asGateway = gatewayOnly(trust, handle);
  return (req, res, scope) => (req.headers.authorization === undefined ? asGateway : asService)(req, res, scope);
}

/**
 * serviceOnly guards an internal route that other subgraphs call: it answers
 * only requests with `Authorization: Bearer <INTERNAL_CALL_SECRET>`, with 401
 * for anything else (a token the gateway made for some subgraph included).
 */
export function serviceOnly(credentials: ServiceCredentials, handle: RouteHandler): RouteHandler {
  const expected = digest(`Bearer ${credentials.secret}`);
  return async (req, res, scope) => {
    const given = req.headers.authorization;
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      scope.outcome = 'refused';
      return sendJson(res, 401, {
        error: "internal routes answer other Fixup services only, with the services' own credentials",
      });
    }
    return handle(req, res, scope);
  };
}
