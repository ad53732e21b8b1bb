import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type GraphQLRequest } from '@apollo/server';
import {
  answerUnread,
  BodyTooLargeError,
  readBody,
  sendJson,
  type RequestScope,
  type RouteHandler,
} from '../http/server.js';
import { toClientError } from './errors.js';

/** GraphQLFields are the named parts of a GraphQL request, from a POST body or GET's query string. */
export type GraphQLFields = Record<string, unknown>;

/** Refusal is an answer that stops a request before Apollo sees it. */
export interface Refusal {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * PrepareRequest sees a request's GraphQL fields before Apollo does: it may
 * give the fields Apollo is to run instead (a registered operation named by
 * id, say) or refuse the request.
 */
export type PrepareRequest = (
  fields: GraphQLFields,
  req: IncomingMessage,
  scope: RequestScope,
) => Promise<{ fields: GraphQLFields } | Refusal>;

const GET_FIELDS = ['query', 'operationName', 'variables', 'extensions', 'documentId'] as const;

/**
 * fieldsOfSearch reads GET's GraphQL fields; variables and extensions are JSON (undefined when they do not parse:
 * Apollo then says so).
 */
function fieldsOfSearch(search: URLSearchParams): GraphQLFields {
  const out: GraphQLFields = {};
  for (const key of GET_FIELDS) {
    const value = search.get(key);
    if (value === null) continue;
    if (key === 'variables' || key === 'extensions') {
      try {
        out[key] = JSON.parse(value);
      } catch {
        out[key] = value;
      }
    } else out[key] = value;
  }
  return out;
}

/** searchOfFields writes GraphQL fields back as GET's query string. */
function searchOfFields(fields: GraphQLFields): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return `?${search.toString()}`;
}

/** badRequest is the body of a request refused before it ran, in GraphQL's error shape. */
function badRequest(message: string) {
  return { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] };
}

/** earlyRefusal refuses a request before (or instead of) reading its whole body: see answerUnread. */
function earlyRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  scope: RequestScope,
  status: number,
  message: string,
): void {
  scope.outcome = 'rejected';
  answerUnread(req, res, status, badRequest(message));
}

/** isJsonType tells whether a POST's content type is one a GraphQL request may have. */
function isJsonType(type: string): boolean {
  const mime = type.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime === 'application/graphql-response+json';
}

/** ContextFactory builds a request's GraphQL context, fresh each time, from its HTTP request and scope. */
export type ContextFactory<C extends BaseContext> = (req: IncomingMessage, scope: RequestScope) => Promise<C>;

/** GraphQLRouteOptions tune graphqlRoute. */
export interface GraphQLRouteOptions {
  /** prepare, when given, sees every request's GraphQL fields first. */
  prepare?: PrepareRequest;
  /**
   * direct runs POST bodies through Apollo Server's operation pipeline without its HTTP layer: for a subgraph, whose
   * one caller is the gateway and always asks for application/json, so the per-request content negotiation, header
   * copy and body checks of that layer are done once here or not at all. GET requests still go through the HTTP layer.
   */
  direct?: boolean;
}

/**
 * directRequestOf checks a POST body's GraphQL fields as Apollo Server's HTTP layer does (same messages), and gives
 * the request to run, or what is wrong with it.
 */
export function directRequestOf(body: Record<string, unknown>): GraphQLRequest | string {
  if (Object.keys(body).length === 0) return 'POST body missing, invalid Content-Type, or JSON object has no keys.';
  const { query, variables, extensions, operationName } = body;
  if (query && typeof query !== 'string') {
    return isRecord(query) && query.kind === 'Document'
      ? "GraphQL queries must be strings. It looks like you're sending the internal graphql-js representation of a parsed query in your request instead of a request in the GraphQL query language. You can convert an AST to a string using the `print` function from `graphql`, or use a client like `apollo-client` which converts the internal representation to a string for you."
      : 'GraphQL queries must be strings.';
  }
  if (typeof variables === 'string')
    return '`variables` in a POST body should be provided as an object, not a recursively JSON-encoded string.';
  if (typeof extensions === 'string')
    return '`extensions` in a POST body should be provided as an object, not a recursively JSON-encoded string.';
  if (extensions !== undefined && extensions !== null && !isRecord(extensions))
    return '`extensions` in a POST body must be an object if provided.';
  if (variables !== undefined && variables !== null && !isRecord(variables))
    return '`variables` in a POST body must be an object if provided.';
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    return '`operationName` in a POST body must be a string if provided.';
  return {
    query: typeof query === 'string' ? query : undefined,
    operationName: typeof operationName === 'string' ? operationName : undefined,
    variables: isRecord(variables) ? variables : undefined,
    extensions: isRecord(extensions) ? extensions : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * graphqlRoute hands GET and POST /graphql to Apollo Server: it reads the body
 * (bounded by bodyLimitBytes), runs the operation, and writes the response,
 * streaming it when Apollo answers in chunks. A body over the limit (by its
 * Content-Length, or once read past it), a body that is not JSON and a content
 * type that is not JSON are refused with 413, 400 and 415 and the connection
 * closed. With `direct`, a POST runs through `executeOperation` (see
 * GraphQLRouteOptions).
 */
export function graphqlRoute<C extends BaseContext>(
  apollo: ApolloServer<C>,
  contextFactory: ContextFactory<C>,
  bodyLimitBytes: number,
  { prepare, direct = false }: GraphQLRouteOptions = {},
): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse, scope: RequestScope) => {
    let body: unknown = undefined;
    const contentType = req.headers['content-type'] ?? '';
    if (req.method === 'POST') {
      if (!isJsonType(contentType)) {
        return earlyRefusal(req, res, scope, 415, 'Send the operation as application/json');
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > bodyLimitBytes) {
        return earlyRefusal(req, res, scope, 413, `request body over ${bodyLimitBytes} bytes`);
      }
      let text: string;
      try {
        text = await readBody(req, bodyLimitBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return earlyRefusal(req, res, scope, 413, err.message);
        throw err;
      }
      try {
        body = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        return earlyRefusal(req, res, scope, 400, 'Request body is not valid JSON');
      }
      if (direct) return runDirect(apollo, contextFactory, req, res, scope, body);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    let search = url.search;
    if (prepare) {
      const isPost = req.method === 'POST';
      if (isPost && !isRecord(body)) {
        return earlyRefusal(
          req,
          res,
          scope,
          400,
          'The request body must be one JSON object: batched operations are not accepted',
        );
      }
      const fields = isPost ? (body as GraphQLFields) : fieldsOfSearch(url.searchParams);
      const prepared = await prepare(fields, req, scope);
      if ('status' in prepared) {
        for (const [key, value] of Object.entries(prepared.headers ?? {})) res.setHeader(key, value);
        return sendJson(res, prepared.status, prepared.body);
      }
      if (isPost) body = prepared.fields;
      else search = searchOfFields(prepared.fields);
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: () => contextFactory(req, scope),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      // Encoded once (Node sets a Buffer's length as Content-Length): a string would be measured, then encoded.
      res.end(Buffer.from(response.body.string));
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/**
 * runDirect runs one POST's operation through Apollo Server's operation pipeline (parsing and validation kept per
 * document, plugins, formatError) and writes its single JSON answer.
 */
async function runDirect<C extends BaseContext>(
  apollo: ApolloServer<C>,
  contextFactory: ContextFactory<C>,
  req: IncomingMessage,
  res: ServerResponse,
  scope: RequestScope,
  body: unknown,
): Promise<void> {
  const request = isRecord(body)
    ? directRequestOf(body)
    : Array.isArray(body)
      ? 'Operation batching disabled.'
      : 'POST body missing, invalid Content-Type, or JSON object has no keys.';
  if (typeof request === 'string') {
    scope.outcome = 'rejected';
    return sendJson(res, 400, badRequest(request));
  }
  const contextValue = await contextFactory(req, scope);
  let response: Awaited<ReturnType<ApolloServer<C>['executeOperation']>>;
  try {
    response = await apollo.executeOperation(request, { contextValue });
  } catch (err) {
    // What Apollo's HTTP layer answers when its pipeline fails (a server stopping, say): the error as the one mapping
    // shows it to a client.
    scope.outcome = 'error';
    scope.logger.error({ err }, 'operation pipeline failed');
    return sendJson(res, 500, { errors: [toClientError({ message: String(err) }, err)] });
  }
  if (response.body.kind !== 'single') {
    // Only @defer or @stream answer in parts; a subgraph's schema has neither, so this is not reached.
    scope.outcome = 'rejected';
    return sendJson(res, 406, badRequest('This endpoint answers in one part only'));
  }
  for (const [key, value] of response.http.headers) res.setHeader(key, value);
  sendJson(res, response.http.status ?? 200, response.body.singleResult);
}
