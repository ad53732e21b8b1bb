import { createHash, timingSafeEqual } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import { REQUEST_ID_HEADER, sendJson, type RouteHandler } from './http-server.js';
import type { Caller } from './identity.js';

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

/**
 * internalGet calls another subgraph's internal route on behalf of the caller:
 * it sends this subgraph's own credentials, the caller's request id and the
 * trace context, and bounds the wait.
 */
export async function internalGet<T>(url: URL, caller: Caller, timeoutMs: number, credentials: ServiceCredentials): Promise<T> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${credentials.secret}`,
    [SERVICE_HEADER]: credentials.service,
    [REQUEST_ID_HEADER]: caller.requestId,
    accept: 'application/json',
  };
  propagation.inject(context.active(), headers);
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new InternalCallError(`${url.pathname} answered HTTP ${res.status}`);
  return (await res.json()) as T;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

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
      return sendJson(res, 401, { error: "internal routes answer other Fixup services only, with the services' own credentials" });
    }
    return handle(req, res, scope);
  };
}
