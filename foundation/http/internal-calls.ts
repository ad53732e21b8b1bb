import { context, propagation } from '@opentelemetry/api';
import type { z } from 'zod';
import type { Caller } from '../../contracts/caller.js';
import type { InternalGetRoute } from '../../contracts/internal-routes.js';
import { gatewayOnly, GATEWAY_TOKEN_HEADER, type GatewayTrust } from '../auth/identity.js';
import { REQUEST_ID_HEADER, sendJson, type RouteHandler } from './server.js';

/** InternalCallError says another subgraph's internal route failed; it is unexpected for clients. */
export class InternalCallError extends Error {}

/**
 * internalGet calls another subgraph's internal route (declared in
 * contracts/internal-routes.ts) on behalf of the caller: it passes on the
 * gateway's token (so the callee knows the call comes from inside), the
 * request id and the trace context, bounds the wait, and parses the reply
 * with the route's schema.
 */
export async function internalGet<R extends z.ZodType>(
  baseUrl: string,
  route: InternalGetRoute<z.ZodObject, R>,
  query: Record<string, string>,
  caller: Caller,
  timeoutMs: number,
): Promise<z.output<R>> {
  if (!caller.gatewayToken) throw new InternalCallError('no gateway token to pass on');
  const url = new URL(route.path, baseUrl);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const headers: Record<string, string> = {
    [GATEWAY_TOKEN_HEADER]: caller.gatewayToken,
    [REQUEST_ID_HEADER]: caller.requestId,
    accept: 'application/json',
  };
  propagation.inject(context.active(), headers);
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new InternalCallError(`${url.pathname} answered HTTP ${res.status}`);
  const parsed = route.reply.safeParse(await res.json());
  if (!parsed.success) throw new InternalCallError(`${url.pathname} answered a reply its contract does not allow`);
  return parsed.data;
}

/**
 * internalGetRoute serves an internal route (declared in contracts/internal-routes.ts)
 * to calls that carry the gateway's token: the query is parsed with the
 * route's schema (400 when it does not fit), and the answer must be of the
 * route's reply type.
 */
export function internalGetRoute<Q extends z.ZodObject, R extends z.ZodType>(
  trust: GatewayTrust,
  route: InternalGetRoute<Q, R>,
  answer: (query: z.output<Q>) => Promise<z.input<R>>,
): Record<string, RouteHandler> {
  return {
    [`GET ${route.path}`]: gatewayOnly(trust, async (req, res) => {
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
