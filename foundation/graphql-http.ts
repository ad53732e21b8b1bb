import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { BodyTooLargeError, readBody, sendJson, type RequestScope, type RouteHandler } from './http-server.js';

/** ContextFactory builds a request's GraphQL context, fresh each time, from its HTTP request and scope. */
export type ContextFactory<C extends BaseContext> = (req: IncomingMessage, scope: RequestScope) => Promise<C>;

/**
 * graphqlRoute hands GET and POST /graphql to Apollo Server: it reads the body
 * (bounded by bodyLimitBytes), runs the operation, and writes the response,
 * streaming it when Apollo answers in chunks.
 */
export function graphqlRoute<C extends BaseContext>(
  apollo: ApolloServer<C>,
  contextFactory: ContextFactory<C>,
  bodyLimitBytes: number,
): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse, scope: RequestScope) => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      let text: string;
      try {
        text = await readBody(req, bodyLimitBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          scope.outcome = 'rejected';
          return sendJson(res, 413, { errors: [{ message: err.message, extensions: { code: 'BAD_REQUEST' } }] });
        }
        throw err;
      }
      const type = headers.get('content-type') ?? '';
      if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          scope.outcome = 'rejected';
          return sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
        }
      } else {
        body = text;
      }
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: () => contextFactory(req, scope),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
