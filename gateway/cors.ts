import type { IncomingMessage, ServerResponse } from 'node:http';

/** CorsPolicy says which browser origins may call the endpoint and what a preflight allows. */
export interface CorsPolicy {
  /** origins are exact origins, `*` for any, or patterns with `*` for a port or a host label (`http://localhost:*`). */
  origins: readonly string[];
  maxAgeSeconds: number;
}

/** CORS_METHODS are the methods the endpoint answers. */
export const CORS_METHODS = 'GET, POST, OPTIONS';

/** CORS_HEADERS are the request headers a browser may send: the ones Fixup reads and Apollo's CSRF-prevention ones. */
export const CORS_HEADERS =
  'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id, traceparent, tracestate';

/** originMatches tells whether an origin is allowed by one entry of the allow-list. */
function originMatches(origin: string, entry: string): boolean {
  if (entry === '*') return true;
  if (!entry.includes('*')) return origin === entry;
  const pattern = new RegExp(
    `^${entry
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('[A-Za-z0-9.-]+')}$`,
  );
  return pattern.test(origin);
}

/** corsOriginAllowed tells whether a browser origin is on the policy's list. */
export function corsOriginAllowed(origin: string, policy: CorsPolicy): boolean {
  return policy.origins.some((entry) => originMatches(origin, entry));
}

/**
 * applyCors adds the CORS headers an answer to an allowed origin carries; a
 * request from an origin not on the list gets none, so the browser keeps
 * the answer from the page.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): void {
  res.appendHeader('vary', 'Origin');
  const origin = req.headers.origin;
  if (!origin || !corsOriginAllowed(origin, policy)) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', 'retry-after, x-request-id');
}

/**
 * preflight answers a browser's OPTIONS: 204 with the allowed methods, headers and max-age for an allowed origin, 204
 * without them otherwise.
 */
export function preflight(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): void {
  applyCors(req, res, policy);
  if (res.hasHeader('access-control-allow-origin')) {
    res.setHeader('access-control-allow-methods', CORS_METHODS);
    res.setHeader('access-control-allow-headers', CORS_HEADERS);
    res.setHeader('access-control-max-age', String(policy.maxAgeSeconds));
  }
  res.writeHead(204, { 'content-length': '0' });
  res.end();
}
