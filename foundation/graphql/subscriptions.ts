import { newId } from '../core/ids.js';
import type { Server } from 'node:http';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { toClientError } from './errors.js';
import { requestScope, type RequestScope } from '../http/server.js';
import { callerClaims, GATEWAY_TOKEN_ISSUER, gatewayAudience, type GatewayTrust } from '../auth/identity.js';
import type { Caller } from '../../contracts/caller.js';
import type { Logger } from '../telemetry/logger.js';
import type { TokenSigner } from '../auth/tokens.js';
import { serveGraphqlWs, WebSocketEndpoint } from '../http/websocket.js';
import { CheckedDocuments } from './documents.js';

/**
 * SUBSCRIBE_STATEMENT_EXTENSION is the key, in a graphql-ws `subscribe`
 * message's `extensions`, of the gateway's signed statement of the caller of
 * that one operation.
 */
export const SUBSCRIBE_STATEMENT_EXTENSION = 'gatewayToken';

/**
 * RESUME_SINCE_EXTENSION is the key, in a `subscribe` message's `extensions`,
 * of when the subscription first started (ms since the epoch), sent by the
 * gateway when it resumes a subscription that had delivered no event yet and
 * so has no `after` to resume from.
 */
export const RESUME_SINCE_EXTENSION = 'resumeSince';

/**
 * GATEWAY_ID_CLAIM names the gateway process a socket token or statement was made by; a socket takes statements of its
 * own gateway only.
 */
export const GATEWAY_ID_CLAIM = 'gid';

/**
 * signSocketToken makes the token a gateway process opens a shared socket to
 * one subgraph with: it names no user, only the gateway process and the
 * subgraph, and it lets nothing run by itself.
 */
export async function signSocketToken(
  signer: TokenSigner,
  options: { gatewayId: string; subgraph: string; ttlSeconds: number },
): Promise<string> {
  const { token } = await signer.sign(
    { [GATEWAY_ID_CLAIM]: options.gatewayId, rid: `socket-${options.gatewayId}` },
    { issuer: GATEWAY_TOKEN_ISSUER, audience: gatewayAudience(options.subgraph), ttlSeconds: options.ttlSeconds },
  );
  return token;
}

/**
 * signSubscribeStatement states the caller of one subscription to the
 * subgraph it is for, signed by the gateway: the same claims as the token of
 * an HTTP request, the subgraph named in its audience, and the gateway
 * process whose socket may carry it.
 */
export async function signSubscribeStatement(
  signer: TokenSigner,
  caller: Caller,
  options: { gatewayId: string; subgraph: string; ttlSeconds: number },
): Promise<string> {
  const { token } = await signer.sign(
    {
      ...callerClaims(caller),
      rid: caller.requestId,
      [GATEWAY_ID_CLAIM]: options.gatewayId,
    },
    {
      issuer: GATEWAY_TOKEN_ISSUER,
      audience: gatewayAudience(options.subgraph),
      subject: caller.viewer?.id,
      ttlSeconds: options.ttlSeconds,
    },
  );
  return token;
}

function audienceIncludes(aud: unknown, name: string): boolean {
  return Array.isArray(aud) ? aud.includes(name) : aud === name;
}

interface SocketState {
  gatewayId: string;
  /** callers holds each subscription's verified caller from its subscribe message until its context is made. */
  callers: Map<string, Caller & { resumeSince?: number }>;
}

/** SUBGRAPH_SOCKET_KEEP_ALIVE_MS is how often a subgraph pings the gateway's sockets (graphql-ws's default). */
const SUBGRAPH_SOCKET_KEEP_ALIVE_MS = 12_000;

/**
 * serveSubgraphSubscriptions serves a subgraph's subscriptions over graphql-ws
 * at /graphql, to the gateway only. A socket is shared by many callers:
 * connection_init must carry a gateway socket token for this subgraph
 * (`{ "gatewayToken": "…" }`, else 4403), and every `subscribe` carries its
 * own caller, the gateway's signed statement in `extensions.gatewayToken`,
 * verified like an HTTP request's token, made for this subgraph and by the
 * same gateway process as the socket's; an operation without one is refused
 * with UNAUTHENTICATED and the socket's other operations go on. Errors are
 * mapped to the contract's codes as for HTTP.
 */
export function serveSubgraphSubscriptions<C>(options: {
  server: Server;
  schema: GraphQLSchema;
  subgraph: string;
  trust: GatewayTrust;
  context: (caller: Caller, scope: RequestScope) => Promise<C>;
  logger: Logger;
}): WebSocketEndpoint {
  const endpoint = new WebSocketEndpoint(options.server, '/graphql');
  // An error the client sees masked is logged in full, as for HTTP requests.
  const format = (errors: readonly { toJSON?: () => GraphQLFormattedError }[]) =>
    errors.map((e) => {
      const client = toClientError(typeof e.toJSON === 'function' ? e.toJSON() : (e as GraphQLFormattedError), e);
      if (client.extensions?.code === 'INTERNAL_SERVER_ERROR')
        options.logger.error({ err: (e as { originalError?: unknown }).originalError ?? e }, 'subscription failed');
      return client;
    });
  const refuse = (message: string) => [new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } })];
  const documents = new CheckedDocuments(options.schema);
  serveGraphqlWs<Record<string, unknown>, { state: SocketState }>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const statement = await options.trust.statementOf(ctx.connectionParams?.gatewayToken, `ws-${newId()}`, {
          once: true,
        });
        const gatewayId = statement?.claims[GATEWAY_ID_CLAIM];
        if (
          !statement ||
          typeof gatewayId !== 'string' ||
          !audienceIncludes(statement.claims.aud, gatewayAudience(options.subgraph))
        )
          return false;
        ctx.extra.state = { gatewayId, callers: new Map() };
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const statement = await options.trust.statementOf(payload.extensions?.[SUBSCRIBE_STATEMENT_EXTENSION], id, {
          once: true,
        });
        if (!statement) return refuse("Each subscription must carry the gateway's statement of its caller");
        const { claims } = statement;
        if (
          claims[GATEWAY_ID_CLAIM] !== ctx.extra.state!.gatewayId ||
          !audienceIncludes(claims.aud, gatewayAudience(options.subgraph))
        ) {
          return refuse('The statement was not made for this socket');
        }
        const requestId = typeof claims.rid === 'string' ? claims.rid : `${ctx.extra.state!.gatewayId}:${id}`;
        const since = payload.extensions?.[RESUME_SINCE_EXTENSION];
        const document = documents.get(payload.query);
        if (Array.isArray(document)) return document as GraphQLError[];
        // graphql-ws keeps the subscribe message for the subscription's life: keep neither the statement (checked
        // above) nor a text of its own (the checked document holds one for every subscription of that text).
        const message = payload as { query: string; extensions?: unknown };
        message.query = (document as DocumentNode).loc?.source.body ?? message.query;
        delete message.extensions;
        ctx.extra.state!.callers.set(id, {
          ...statement.caller,
          requestId,
          ...(typeof since === 'number' && Number.isFinite(since) ? { resumeSince: since } : {}),
        });
        return {
          schema: options.schema,
          document: document as DocumentNode,
          operationName: payload.operationName ?? undefined,
          variableValues: payload.variables ?? undefined,
        };
      },
      context: (ctx, id) => {
        // Read once, for the one context of this subscription: the context keeps the caller from here on.
        const callers = ctx.extra.state!.callers;
        const { resumeSince, ...caller } = callers.get(id)!;
        callers.delete(id);
        const scope = requestScope(caller.requestId, options.logger);
        if (resumeSince !== undefined) scope.resumeSince = resumeSince;
        return options.context(caller, scope) as never;
      },
      onComplete: (ctx, id) => {
        ctx.extra.state!.callers.delete(id);
      },
      onError: (ctx, id, _payload, errors) => {
        ctx.extra.state!.callers.delete(id);
        return format(errors);
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors) } : undefined,
    },
    endpoint.wss,
    SUBGRAPH_SOCKET_KEEP_ALIVE_MS,
    options.logger,
  );
  return endpoint;
}
