import { newId } from '../foundation/core/ids.js';
import type { IncomingMessage, Server } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError, OperationTypeNode } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../foundation/core/errors.js';
import type { WebSocket } from 'ws';
import { toClientError } from '../foundation/graphql/errors.js';
import type { Caller } from '../contracts/caller.js';
import type { Logger } from '../foundation/telemetry/logger.js';
import { serveGraphqlWs, WebSocketEndpoint } from '../foundation/http/websocket.js';
import { Ending, endingAtOnce } from '../foundation/core/streams.js';
import { requestScope } from '../foundation/http/server.js';
import { clientIp, type Authenticator, type ProxyTrust } from './auth.js';
import {
  countsAsRefusal,
  isRefused,
  type GraphQLRequestFields,
  type OperationAdmission,
} from './operation-admission.js';
import { addressKey, HELD_OFF_MESSAGE, type GatewayRateLimits } from './rate-limits.js';
import type { GatewayContext } from './gateway.js';
import type { SessionRevocations } from './session-revocations.js';
import type { FederatedSubscriptions } from './subscriptions.js';
import { gatewayMetrics } from './metrics.js';

/**
 * Close codes the gateway uses on a subscription socket, beside graphql-ws's
 * own (4403 Forbidden for a missing or bad token at connection_init):
 * - 4001: the session ended or its token expired or went stale; reconnect with a fresh token.
 * - 4008: the client reads too slowly; more than the limit of messages waits unsent.
 * - 1012: the gateway is restarting (service restart); reconnect, to it or another instance, and resume with `after`.
 */
export const CLOSE_SESSION_ENDED = 4001;
export const CLOSE_SLOW_CONSUMER = 4008;
/** CLOSE_TOO_MANY_SOCKETS closes a socket past the cap of sockets per user or per address: retry later. */
export const CLOSE_TOO_MANY_SOCKETS = 4029;

/** SocketCaps bound what one client may hold and send on subscription sockets. */
export interface SocketCaps {
  socketsPerUser: number;
  socketsPerAddress: number;
  subscriptionsPerSocket: number;
  subscribesPerSecond: number;
  initTimeoutMs: number;
  maxPayloadBytes: number;
  pingIntervalMs: number;
}

/** Counter counts open sockets by key. */
class Counter {
  private readonly counts = new Map<string, number>();

  /** take adds one for key unless it is at max, and says whether it did. */
  take(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}

/**
 * ClientSocket is what the gateway keeps of one client's subscription socket, all of it released by one listener when
 * the socket closes: one record and one shared listener, where there were four `close` listeners with their closures
 * and `once` wrappers (docs/performance.md, lever 47).
 */
class ClientSocket {
  /** id keys the socket's own limit on subscribes per second. */
  readonly id = newId();
  /** userId is the signed-in user once the socket is accepted, counted against the cap of sockets per user. */
  userId: string | undefined;
  expiry: NodeJS.Timeout | undefined;
  unlisten: (() => void) | undefined;
  uncount: (() => void) | undefined;

  constructor(readonly address: string) {}
}

function refusalOf(message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions });
}

/**
 * originAllowed checks a browser's Origin against the allow-list; clients that send none (servers, apps) are let
 * through.
 */
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
  admission: OperationAdmission;
  rateLimits: GatewayRateLimits;
  /** refusalsDelayMs is how long a subscribe from a caller held off for its refusals waits for its error. */
  refusalsDelayMs: number;
  caps: SocketCaps;
  trust: ProxyTrust;
  logger: Logger;
}): WebSocketEndpoint {
  const { caps } = options;
  const endpoint = new WebSocketEndpoint(
    options.server,
    '/graphql',
    // A page of the gateway's own origin (its GraphiQL) may always open a socket.
    (req: IncomingMessage) =>
      originAllowed(req.headers.origin, options.allowedOrigins) || sameOrigin(req.headers.origin, req.headers.host),
    caps.maxPayloadBytes,
  );
  const byAddress = new Counter();
  const byUser = new Counter();
  const subscribes = new RateLimiterMemory({
    keyPrefix: 'ws_subscribe',
    points: caps.subscribesPerSecond,
    duration: 1,
  });
  const clients = new WeakMap<WebSocket, ClientSocket>();
  function released(this: WebSocket): void {
    const client = clients.get(this);
    if (!client) return;
    clients.delete(this);
    byAddress.release(client.address);
    if (client.userId !== undefined) byUser.release(client.userId);
    clearTimeout(client.expiry);
    client.unlisten?.();
    client.uncount?.();
  }
  // Registered before graphql-ws's own handler, so a socket past the address cap is closed before it is served.
  endpoint.wss.on('connection', (socket, req: IncomingMessage) => {
    const address = addressKey(clientIp(req, options.trust));
    if (!byAddress.take(address, caps.socketsPerAddress)) {
      socket.close(CLOSE_TOO_MANY_SOCKETS, 'Too many sockets from this address: retry later');
      return;
    }
    clients.set(socket, new ClientSocket(address));
    // 'close' is emitted once: a plain listener, without the wrapper `once` makes.
    socket.on('close', released);
  });
  const end = (socket: WebSocket, reason: string) => {
    if (socket.readyState === socket.OPEN) socket.close(CLOSE_SESSION_ENDED, reason);
  };
  const format = (errors: readonly GraphQLError[] | readonly GraphQLFormattedError[]) =>
    errors.map((e) => toClientError(e instanceof GraphQLError ? e.toJSON() : e, e));
  serveGraphqlWs<Record<string, unknown>, { caller: Caller; requestId: string }>(
    {
      schema: options.subscriptions.apiGraphQLSchema,
      connectionInitWaitTimeout: caps.initTimeoutMs,
      onConnect: async (ctx) => {
        const requestId = newId();
        const authorization =
          typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        let auth;
        try {
          auth = await options.authenticator.authenticate(ctx.extra.request, requestId, authorization);
        } catch {
          return false;
        }
        const socket = ctx.extra.socket;
        const client = clients.get(socket);
        // Closed while its token was checked (released already), or refused by the address cap.
        if (!auth.caller.viewer || !client) return false;
        // graphql-ws keeps the connection parameters and the upgrade request (headers and all) for the socket's
        // life; the token and the request have done their work.
        delete (ctx.connectionParams as Record<string, unknown> | undefined)?.authorization;
        delete (ctx.extra as { request?: IncomingMessage }).request;
        ctx.extra.caller = auth.caller;
        ctx.extra.requestId = requestId;
        const userId = auth.caller.viewer.id;
        if (!byUser.take(userId, caps.socketsPerUser)) {
          socket.close(CLOSE_TOO_MANY_SOCKETS, 'Too many sockets for this user: retry later');
          return false;
        }
        client.userId = userId;
        client.expiry = setTimeout(
          end,
          Math.max(0, (auth.expiresAt ?? 0) - Date.now()),
          socket,
          'Access token expired: reconnect with a fresh token',
        );
        // The closure below keeps the caller, not the whole authentication (its token and claims).
        const { tokenVersion, caller } = auth;
        client.unlisten = options.revocations.onChange((event) => {
          if (event.userId === userId && !options.authenticator.stillValid(caller, tokenVersion))
            end(socket, 'Session ended: reconnect with a fresh token');
        });
        client.uncount = gatewayMetrics.socketOpened();
        options.logger.info({ requestId, userId: auth.caller.viewer.id }, 'subscription socket opened');
        return true;
      },
      context: (ctx, id) => {
        const requestId = `${ctx.extra.requestId}:${id}`;
        const caller = ctx.extra.caller!;
        const scope = requestScope(requestId, options.logger);
        scope.caller = caller;
        return {
          scope,
          caller,
          socket: ctx.extra.socket,
        } satisfies GatewayContext & { socket: unknown } as never;
      },
      // Every subscribe message is counted, resolved, limited and validated like an HTTP request; a refusal is an error
      // message for that id, and the socket's other subscriptions go on.
      onSubscribe: async (ctx, _id, payload) => {
        const caller = ctx.extra.caller!;
        try {
          await subscribes.consume(clients.get(ctx.extra.socket)?.id ?? 'unknown', 1).catch((res: unknown) => {
            if (res instanceof RateLimiterRes)
              throw new RateLimitedError(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
            throw res;
          });
          await options.rateLimits.consume(caller);
        } catch (err) {
          if (!(err instanceof RateLimitedError)) throw err;
          return [refusalOf(err.message, { code: err.code, retryAfterSeconds: err.details.retryAfterSeconds })];
        }
        if (Object.keys(ctx.subscriptions).length > caps.subscriptionsPerSocket) {
          return [
            refusalOf(`At most ${caps.subscriptionsPerSocket} subscriptions per socket: complete one first`, {
              code: 'RATE_LIMITED',
              retryAfterSeconds: 1,
            }),
          ];
        }
        // A caller held off for its refused documents waits for its error, after the socket's own caps (so that the
        // waiting subscribes are as bounded as any), unless it names a registered operation, which is not parsed.
        const fields = payload as GraphQLRequestFields;
        const held = options.admission.namesRegistered(fields) ? 0 : options.rateLimits.penalty(caller);
        if (held > 0) {
          await sleep(Math.min(options.refusalsDelayMs, held));
          const err = new RateLimitedError(Math.max(1, Math.ceil(held / 1000)), HELD_OFF_MESSAGE);
          return [refusalOf(err.message, { code: err.code, retryAfterSeconds: err.details.retryAfterSeconds })];
        }
        const admitted = options.admission.admit(fields);
        if (isRefused(admitted)) {
          if (countsAsRefusal(admitted.errors))
            void options.rateLimits
              .countRefusal(caller)
              .catch((err: unknown) => options.logger.warn({ err }, 'refused subscription not counted'));
          return admitted.errors;
        }
        if (admitted.operationType !== OperationTypeNode.SUBSCRIPTION) {
          return [
            refusalOf('Send queries and mutations over HTTP; this socket serves subscriptions', {
              code: 'BAD_REQUEST',
            }),
          ];
        }
        // graphql-ws keeps the subscribe message for the subscription's life: the admitted document holds the text.
        (payload as { query: string }).query = admitted.document.loc?.source.body ?? payload.query;
        return {
          schema: options.subscriptions.apiGraphQLSchema,
          document: admitted.document,
          operationName: payload.operationName ?? undefined,
          variableValues: payload.variables ?? undefined,
        };
      },
      subscribe: (args) => {
        const { socket } = args.contextValue as { socket: WebSocket };
        const ending = new Ending();
        const subscription = options.subscriptions.subscribe(
          args.document,
          args.operationName ?? undefined,
          (args.variableValues ?? {}) as Record<string, unknown>,
          args.contextValue as GatewayContext,
          {
            slowConsumer: () => {
              if (socket.readyState !== socket.OPEN) return;
              gatewayMetrics.slowConsumer();
              socket.close(CLOSE_SLOW_CONSUMER, 'Slow consumer: too much unread data');
            },
            ending,
          },
        );
        return endingAtOnce(subscription, ending);
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        // Counted and closed once: events already under way still pass here while the socket closes.
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > options.maxBufferedBytes && socket.readyState === socket.OPEN) {
          gatewayMetrics.slowConsumer();
          socket.close(CLOSE_SLOW_CONSUMER, 'Slow consumer: too much unread data');
        }
        return result.errors ? { ...result, errors: format(result.errors) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    endpoint.wss,
    caps.pingIntervalMs,
    options.logger,
  );
  return endpoint;
}
