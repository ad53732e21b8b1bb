import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError, OperationTypeNode, getOperationAST } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket } from 'ws';
import { toClientError } from '../foundation/graphql-errors.js';
import type { Caller } from '../foundation/identity.js';
import type { Logger } from '../foundation/logger.js';
import { WebSocketEndpoint } from '../foundation/websocket.js';
import type { Authenticator } from './auth.js';
import type { GatewayContext } from './gateway.js';
import type { SessionRevocations } from './session-revocations.js';
import type { FederatedSubscriptions } from './subscriptions.js';

/**
 * Close codes the gateway uses on a subscription socket, beside graphql-ws's
 * own (4403 Forbidden for a missing or bad token at connection_init):
 * - 4001: the session ended or its token expired or went stale; reconnect with a fresh token.
 * - 4008: the client reads too slowly; more than the limit of messages waits unsent.
 * - 1012: the gateway is restarting (service restart); reconnect, to it or another instance, and resume with `after`.
 */
export const CLOSE_SESSION_ENDED = 4001;
export const CLOSE_SLOW_CONSUMER = 4008;

/** originAllowed checks a browser's Origin against the allow-list; clients that send none (servers, apps) are let through. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes('*') || allowed.includes(origin);
}

function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host || !URL.canParse(origin)) return false;
  return new URL(origin).host === host;
}

/**
 * serveGatewaySubscriptions serves subscriptions over graphql-ws at the same
 * /graphql as HTTP. The token comes in connection_init's payload
 * (`{ "authorization": "Bearer …" }`) and is checked exactly as for HTTP; the
 * socket is closed when the token expires or the session is revoked.
 */
export function serveGatewaySubscriptions(options: {
  server: Server;
  subscriptions: FederatedSubscriptions;
  authenticator: Authenticator;
  revocations: SessionRevocations;
  allowedOrigins: readonly string[];
  maxBufferedBytes: number;
  logger: Logger;
}): WebSocketEndpoint {
  // A page of the gateway's own origin (its GraphiQL) may always open a socket.
  const endpoint = new WebSocketEndpoint(
    options.server,
    '/graphql',
    (req: IncomingMessage) => originAllowed(req.headers.origin, options.allowedOrigins) || sameOrigin(req.headers.origin, req.headers.host),
  );
  const format = (errors: readonly GraphQLError[] | readonly GraphQLFormattedError[]) =>
    errors.map((e) => toClientError(e instanceof GraphQLError ? e.toJSON() : e, e));
  useServer<Record<string, unknown>, { caller: Caller; requestId: string }>(
    {
      schema: options.subscriptions.apiGraphQLSchema,
      onConnect: async (ctx) => {
        const requestId = randomUUID();
        const authorization = typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        let auth;
        try {
          auth = await options.authenticator.authenticate(ctx.extra.request, requestId, authorization);
        } catch {
          return false;
        }
        if (!auth.caller.viewer) return false;
        ctx.extra.caller = auth.caller;
        ctx.extra.requestId = requestId;
        const socket = ctx.extra.socket;
        const end = (reason: string) => {
          if (socket.readyState === socket.OPEN) socket.close(CLOSE_SESSION_ENDED, reason);
        };
        const expiry = setTimeout(() => end('Access token expired: reconnect with a fresh token'), Math.max(0, (auth.expiresAt ?? 0) - Date.now()));
        const { tokenVersion } = auth;
        const unlisten = options.revocations.onChange((event) => {
          if (event.userId === auth.caller.viewer!.id && !options.authenticator.stillValid(auth.caller, tokenVersion)) end('Session ended: reconnect with a fresh token');
        });
        socket.once('close', () => {
          clearTimeout(expiry);
          unlisten();
        });
        options.logger.info({ requestId, userId: auth.caller.viewer.id }, 'subscription socket opened');
        return true;
      },
      context: (ctx, id) => {
        const requestId = `${ctx.extra.requestId}:${id}`;
        const caller = ctx.extra.caller!;
        return { scope: { requestId, logger: options.logger.child({ requestId }), caller }, caller, socket: ctx.extra.socket } satisfies GatewayContext & { socket: unknown } as never;
      },
      subscribe: (args) => {
        const operation = getOperationAST(args.document, args.operationName ?? undefined);
        if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) {
          return { errors: [new GraphQLError('Send queries and mutations over HTTP; this socket serves subscriptions', { extensions: { code: 'BAD_REQUEST' } })] };
        }
        const { socket } = args.contextValue as { socket: WebSocket };
        return options.subscriptions.subscribe(args.document, args.operationName ?? undefined, (args.variableValues ?? {}) as Record<string, unknown>, args.contextValue as GatewayContext, {
          slowConsumer: () => {
            if (socket.readyState === socket.OPEN) socket.close(CLOSE_SLOW_CONSUMER, 'Slow consumer: too much unread data');
          },
        });
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (ctx.extra.socket.bufferedAmount > options.maxBufferedBytes) {
          ctx.extra.socket.close(CLOSE_SLOW_CONSUMER, 'Slow consumer: too much unread data');
        }
        return result.errors ? { ...result, errors: format(result.errors) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    endpoint.wss,
  );
  return endpoint;
}
