import { sendJson, type RouteHandler } from '../../../foundation/http/server.js';

/** jwksRoute publishes the public keys that verify access tokens (read at each request: a rotation reloads them). */
export function jwksRoute(jwks: () => unknown): RouteHandler {
  return (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    sendJson(res, 200, jwks());
  };
}
