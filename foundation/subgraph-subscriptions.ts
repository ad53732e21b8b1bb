import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { toClientError } from './graphql-errors.js';
import type { RequestScope } from './http-server.js';
import type { Caller, GatewayTrust } from './identity.js';
import type { Logger } from './logger.js';
import { WebSocketEndpoint } from './websocket.js';

/**
 * serveSubgraphSubscriptions serves a subgraph's subscriptions over graphql-ws
 * at /graphql, to the gateway only: connection_init must carry the gateway's
 * token (`{ "gatewayToken": "…" }`), else the socket closes with 4403. Errors
 * are mapped to the contract's codes as for HTTP.
 */
export function serveSubgraphSubscriptions<C>(options: {
  server: Server;
  schema: GraphQLSchema;
  trust: GatewayTrust;
  context: (caller: Caller, scope: RequestScope) => Promise<C>;
  logger: Logger;
}): WebSocketEndpoint {
  const endpoint = new WebSocketEndpoint(options.server, '/graphql');
  const format = (errors: readonly { toJSON?: () => GraphQLFormattedError }[]) =>
    errors.map((e) => toClientError(typeof e.toJSON === 'function' ? e.toJSON() : (e as GraphQLFormattedError), e));
  useServer<Record<string, unknown>, { caller: Caller }>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const caller = await options.trust.callerOfToken(ctx.connectionParams?.gatewayToken, `ws-${randomUUID()}`);
        if (!caller) return false;
        ctx.extra.caller = caller;
        return true;
      },
      context: (ctx, id) => {
        const requestId = `${ctx.extra.caller!.requestId}:${id}`;
        return options.context({ ...ctx.extra.caller!, requestId }, { requestId, logger: options.logger.child({ requestId }) }) as never;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
    },
    endpoint.wss,
  );
  return endpoint;
}
