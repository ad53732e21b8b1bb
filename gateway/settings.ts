import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '../contracts/caller.js';
import { catalogEventsRoute, orderEventsRoute, sessionEventsRoute } from '../contracts/internal-routes.js';
import { DEFAULT_PORTS, serviceUrl } from '../contracts/services.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  nonNegativeIntSchema,
  booleanSchema,
  environmentSetting,
  optionalUrlSchema,
  portSchema,
  positiveIntSchema,
  setting,
} from '../foundation/service/config.js';
import { processSettings } from '../foundation/service/process.js';
import { proxyTrust } from './auth.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** subgraphUrlsSchema parses `name=url,name=url` into a map. */
export const subgraphUrlsSchema = z.string().transform((text, ctx) => {
  const out: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, url] = pair.split(/=(.*)/s);
    // Several instances of one subgraph are listed with |: name=url1|url2.
    if (!name || !url || !url.split('|').every((u) => URL.canParse(u))) {
      ctx.addIssue({ code: 'custom', message: `"${pair}" is not name=url or name=url|url` });
      continue;
    }
    out[name] = url;
  }
  return out;
});

/**
 * gatewaySettingsSpec is every setting of the gateway, with its environment variable, flag, default and
 * documentation (`node dist/gateway/main.js --help` prints them); main.ts reads them once at start.
 */
export const gatewaySettingsSpec = {
  environment: environmentSetting(),
  httpHost: setting({
    env: 'GATEWAY_HTTP_HOST',
    doc: 'interface to listen on',
    schema: z.string().min(1),
    fallback: '127.0.0.1',
  }),
  httpPort: setting({
    env: 'GATEWAY_HTTP_PORT',
    doc: 'port to listen on',
    schema: portSchema,
    fallback: String(DEFAULT_PORTS.gateway.http),
  }),
  adminHost: setting({
    env: 'GATEWAY_ADMIN_HOST',
    doc: 'interface of the admin listener (GET /metrics, /readyz, /healthz)',
    schema: z.string().min(1),
    fallback: '127.0.0.1',
  }),
  adminPort: setting({
    env: 'GATEWAY_ADMIN_PORT',
    doc: 'port of the admin listener; the public port answers only /healthz of these',
    schema: portSchema,
    fallback: String(DEFAULT_PORTS.gateway.admin),
  }),
  httpBodyLimitBytes: setting({
    env: 'GATEWAY_HTTP_BODY_LIMIT_BYTES',
    doc: 'largest request body accepted',
    schema: positiveIntSchema,
    fallback: '1048576',
  }),
  supergraphPath: setting({
    env: 'GATEWAY_SUPERGRAPH_PATH',
    doc: 'the composed supergraph to serve (npm run schema writes it)',
    schema: z.string().min(1),
    fallback: join(root, 'schema', 'supergraph.graphql'),
  }),
  subgraphUrls: setting({
    env: 'GATEWAY_SUBGRAPH_URLS',
    doc: "routing URLs that replace the supergraph's, as name=url pairs separated by commas (e.g. order=http://order:4003/graphql); several instances of one subgraph as name=url1|url2",
    schema: subgraphUrlsSchema,
    fallback: '',
  }),
  subgraphTimeoutMs: setting({
    env: 'GATEWAY_SUBGRAPH_TIMEOUT_MS',
    doc: "longest one subgraph fetch may wait for its answer (and for each pause in it); past it the subgraph's fields are null with SERVICE_UNAVAILABLE",
    schema: positiveIntSchema,
    fallback: '10000',
  }),
  operationTimeoutMs: setting({
    env: 'GATEWAY_OPERATION_TIMEOUT_MS',
    doc: 'longest one operation may take over all its subgraph fetches; no fetch starts or waits past it',
    schema: positiveIntSchema,
    fallback: '15000',
  }),
  subgraphConnections: setting({
    env: 'GATEWAY_SUBGRAPH_CONNECTIONS',
    doc: 'keep-alive connections the gateway keeps open to each subgraph, at most',
    schema: positiveIntSchema,
    fallback: '64',
  }),
  readinessTimeoutMs: setting({
    env: 'GATEWAY_READINESS_TIMEOUT_MS',
    doc: 'longest the health check of a subgraph (for /readyz and fixup_gateway_subgraph_up) may take',
    schema: positiveIntSchema,
    fallback: '2000',
  }),
  ide: setting({
    env: 'GATEWAY_IDE',
    doc: 'serve GraphiQL at GET /graphql to browsers, and the pages mailed links open: auto means on in development and test, off in production',
    schema: z.enum(['auto', 'true', 'false']),
    fallback: 'auto',
  }),
  apolloTelemetry: setting({
    env: 'GATEWAY_APOLLO_TELEMETRY',
    doc: 'let @apollo/gateway send its anonymous usage metrics to Apollo (it does unless told not to)',
    schema: booleanSchema,
    fallback: 'false',
  }),
  jwksUrl: setting({
    env: 'GATEWAY_JWKS_URL',
    doc: "the user subgraph's JWKS, which verifies access tokens (cached; refetched on an unknown kid)",
    schema: z.url(),
    fallback: `${serviceUrl('user')}/.well-known/jwks.json`,
  }),
  jwtIssuer: setting({
    env: 'GATEWAY_JWT_ISSUER',
    doc: 'the iss access tokens must have',
    schema: z.string().min(1),
    fallback: ACCESS_TOKEN_ISSUER,
  }),
  jwtAudience: setting({
    env: 'GATEWAY_JWT_AUDIENCE',
    doc: 'the aud access tokens must have',
    schema: z.string().min(1),
    fallback: ACCESS_TOKEN_AUDIENCE,
  }),
  sessionEventsUrl: setting({
    env: 'GATEWAY_SESSION_EVENTS_URL',
    doc: "the user subgraph's feed of stale tokens and ended sessions",
    schema: z.url(),
    fallback: `${serviceUrl('user')}${sessionEventsRoute.path}`,
  }),
  catalogEventsUrl: setting({
    env: 'GATEWAY_CATALOG_EVENTS_URL',
    doc: "the catalog subgraph's feed of changed skills, which lets the gateway keep providers' skills ('' : not followed, skills are fetched every time)",
    schema: z.union([z.literal(''), z.url()]),
    fallback: `${serviceUrl('catalog')}${catalogEventsRoute.path}`,
  }),
  orderEventsUrl: setting({
    env: 'GATEWAY_ORDER_EVENTS_URL',
    doc: "the order subgraph's feed of changed orders, which lets the gateway keep each caller's answer of an order's status (a chat delivery's `conversation.order`) ('' : not followed, asked every time)",
    schema: z.union([z.literal(''), z.url()]),
    fallback: `${serviceUrl('order')}${orderEventsRoute.path}`,
  }),
  sessionWaitMs: setting({
    env: 'GATEWAY_SESSION_WAIT_MS',
    doc: "longest an answer that changed sessions, roles, a profile or skills waits for this gateway's copy of the feed to apply the change (then it answers anyway and logs a warning)",
    schema: positiveIntSchema,
    fallback: '2000',
  }),
  sessionWindowSeconds: setting({
    env: 'GATEWAY_SESSION_WINDOW_SECONDS',
    doc: 'how long a revocation is remembered: at least the longest access-token lifetime',
    schema: positiveIntSchema,
    fallback: '960',
  }),
  internalKeys: setting({
    env: 'GATEWAY_INTERNAL_KEYS',
    doc: "private Ed25519 JWK set as JSON that signs the gateway's token to subgraphs; wins over the file",
    schema: z
      .string()
      .optional()
      .transform((v) => (v ? v : undefined)),
    secret: true,
  }),
  internalKeysFile: setting({
    env: 'GATEWAY_INTERNAL_KEYS_FILE',
    doc: 'file holding that key set; outside production it is made on first start',
    schema: z.string().min(1),
    fallback: join(root, '.data', 'keys', 'gateway-internal.jwks.json'),
  }),
  internalKeysReloadSeconds: setting({
    env: 'GATEWAY_INTERNAL_KEYS_RELOAD_SECONDS',
    doc: 'how often the key file is checked for a rotation (fixup keys rotate)',
    schema: positiveIntSchema,
    fallback: '10',
  }),
  wsAllowedOrigins: setting({
    env: 'GATEWAY_WS_ALLOWED_ORIGINS',
    doc: 'browser origins that may open subscription sockets, comma-separated (* for any); clients that send no Origin are let through',
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
    fallback: 'http://localhost:3000,http://localhost:4000,http://localhost:5173',
  }),
  wsMaxBufferedBytes: setting({
    env: 'GATEWAY_WS_MAX_BUFFERED_BYTES',
    doc: 'unsent data a subscription socket may hold before it is closed as a slow consumer (4008)',
    schema: positiveIntSchema,
    fallback: '1048576',
  }),
  wsSocketsPerUser: setting({
    env: 'GATEWAY_WS_SOCKETS_PER_USER',
    doc: 'open subscription sockets one user may hold (more are closed with 4029)',
    schema: positiveIntSchema,
    fallback: '10',
  }),
  wsSocketsPerAddress: setting({
    env: 'GATEWAY_WS_SOCKETS_PER_ADDRESS',
    doc: 'open subscription sockets from one client address, IPv6 by /64 (more are closed with 4029)',
    schema: positiveIntSchema,
    fallback: '100',
  }),
  wsSubscriptionsPerSocket: setting({
    env: 'GATEWAY_WS_SUBSCRIPTIONS_PER_SOCKET',
    doc: 'subscriptions running at once on one socket',
    schema: positiveIntSchema,
    fallback: '20',
  }),
  wsSubscribesPerSecond: setting({
    env: 'GATEWAY_WS_SUBSCRIBES_PER_SECOND',
    doc: 'subscribe messages one socket may send a second',
    schema: positiveIntSchema,
    fallback: '10',
  }),
  wsInitTimeoutMs: setting({
    env: 'GATEWAY_WS_INIT_TIMEOUT_MS',
    doc: 'how long a new socket may take to send connection_init (then 4408)',
    schema: positiveIntSchema,
    fallback: '5000',
  }),
  wsMaxPayloadBytes: setting({
    env: 'GATEWAY_WS_MAX_PAYLOAD_BYTES',
    doc: 'largest message a client may send on a socket (larger: closed with 1009)',
    schema: positiveIntSchema,
    fallback: '65536',
  }),
  wsPingIntervalMs: setting({
    env: 'GATEWAY_WS_PING_INTERVAL_MS',
    doc: 'how often a socket is pinged; a peer that does not answer within as long again is dropped',
    schema: positiveIntSchema,
    fallback: '12000',
  }),
  wsMaxQueuedEvents: setting({
    env: 'GATEWAY_WS_MAX_QUEUED_EVENTS',
    doc: 'events that may wait for one subscription of a slow client before its socket is closed as a slow consumer (4008)',
    schema: positiveIntSchema,
    fallback: '1000',
  }),
  subscriptionsPoolSize: setting({
    env: 'GATEWAY_SUBSCRIPTIONS_POOL_SIZE',
    doc: 'graphql-ws sockets the gateway keeps to each subgraph instance; every client subscription runs over one of them',
    schema: positiveIntSchema,
    fallback: '2',
  }),
  subscriptionsResumeTimeoutMs: setting({
    env: 'GATEWAY_SUBSCRIPTIONS_RESUME_TIMEOUT_MS',
    doc: 'how long a subscription whose subgraph instance went away is resumed on another (or the same, once back) before the client gets SERVICE_UNAVAILABLE',
    schema: positiveIntSchema,
    fallback: '30000',
  }),
  subscriptionsBatchMs: setting({
    env: 'GATEWAY_SUBSCRIPTIONS_BATCH_MS',
    doc: "how long an event's follow-up entity fetch waits for those of other events with the same caller (any caller for the shared fields of contracts/shared-entities.ts), to share one _entities call per subgraph (0: none)",
    schema: z.coerce.number().int().min(0).max(1000),
    fallback: '3',
  }),
  subscriptionsBatchMaxEntities: setting({
    env: 'GATEWAY_SUBSCRIPTIONS_BATCH_MAX_ENTITIES',
    doc: 'representations in one shared _entities call of subscription events; a full batch is sent at once',
    schema: positiveIntSchema,
    fallback: '500',
  }),
  internalTokenTtlSeconds: setting({
    env: 'GATEWAY_INTERNAL_TOKEN_TTL_SECONDS',
    doc: 'lifetime of the token that states the caller to subgraphs (signed once per caller and subgraph, reused until 10 s before it expires)',
    schema: positiveIntSchema,
    fallback: '60',
  }),
  verifiedTokenCacheSize: setting({
    env: 'GATEWAY_VERIFIED_TOKEN_CACHE_SIZE',
    doc: 'access tokens whose signature was checked that are remembered until they expire, at most (staleness and ended sessions are checked on every request)',
    schema: positiveIntSchema,
    fallback: '10000',
  }),
  entityCacheMaxEntries: setting({
    env: 'GATEWAY_ENTITY_CACHE_MAX_ENTRIES',
    doc: "entities whose shared fields (contracts/shared-entities.ts: users' names and avatars, providers' skills, services with their categories and first providers, categories' names) the gateway keeps between requests, at most (about 370 bytes each, and about 60 more per entity a kept list names); past it the oldest of the most numerous type go first (0: none kept)",
    schema: z.coerce.number().int().min(0).max(10_000_000),
    fallback: '50000',
  }),
  entityCacheTtlSeconds: setting({
    env: 'GATEWAY_ENTITY_CACHE_TTL_SECONDS',
    doc: "how long a kept entity is used at most; a user's name and a provider's skills are also dropped at once when the user's or the catalog's feed says they changed",
    schema: positiveIntSchema,
    fallback: '600',
  }),
  callerCacheMaxEntries: setting({
    env: 'GATEWAY_CALLER_CACHE_MAX_ENTRIES',
    doc: "callers' answers of their own kept fields (contracts/shared-entities.ts CALLER_ENTITY_CHANGES: an order's status, per caller and order) the gateway keeps between requests, at most (about 500 bytes each); past it the order kept first goes with all its callers' answers (0: none kept); each is used at most GATEWAY_ENTITY_CACHE_TTL_SECONDS, and dropped at once when the order's feed says the order changed or the catalog's that the caller's skills did",
    schema: z.coerce.number().int().min(0).max(10_000_000),
    fallback: '50000',
  }),
  internalTokenCacheSize: setting({
    env: 'GATEWAY_INTERNAL_TOKEN_CACHE_SIZE',
    doc: 'callers whose internal tokens are kept for reuse, at most (least recently used go first)',
    schema: positiveIntSchema,
    fallback: '10000',
  }),
  httpHeadersTimeoutMs: setting({
    env: 'GATEWAY_HTTP_HEADERS_TIMEOUT_MS',
    doc: "longest a client may take to send a request's headers",
    schema: positiveIntSchema,
    fallback: '10000',
  }),
  listenBacklog: setting({
    env: 'GATEWAY_LISTEN_BACKLOG',
    doc: "connections the kernel may hold for the gateway before it accepts them (Linux caps it at net.core.somaxconn); past it a connecting client's handshake is dropped, retried after a second or more, and at last reset, as when thousands of chat clients reconnect at once",
    schema: positiveIntSchema,
    fallback: '4096',
  }),
  httpKeepAliveTimeoutMs: setting({
    env: 'GATEWAY_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    doc: 'how long an idle keep-alive connection of a client is kept open: longer than the idle timeout of the proxies and clients in front (load balancers commonly keep 60 s; one whose own is 600 s needs more), so that the gateway is never the end that closes a connection the other is about to reuse (the client then sees the connection reset, not an answer)',
    schema: positiveIntSchema.min(1000).max(3_600_000),
    fallback: '65000',
  }),
  httpMaxConnections: setting({
    env: 'GATEWAY_HTTP_MAX_CONNECTIONS',
    doc: "client connections open at once, HTTP and subscription sockets together, at most; past it a new connection is closed at once; where the process's open-file limit (its hard limit, ulimit -Hn: Node raises the soft one to it), less the gateway's own connections to subgraphs and a margin of 1024, allows fewer, the gateway takes that lower bound (at least half the limit) and says so at start",
    schema: positiveIntSchema.max(1_000_000),
    fallback: '50000',
  }),
  httpRequestTimeoutMs: setting({
    env: 'GATEWAY_HTTP_REQUEST_TIMEOUT_MS',
    doc: 'longest a client may take to send a whole request',
    schema: positiveIntSchema,
    fallback: '30000',
  }),
  corsOrigins: setting({
    env: 'GATEWAY_CORS_ORIGINS',
    doc: 'browser origins that may call the endpoint, comma-separated; * in an entry stands for a port or host label (http://localhost:*); empty means http://localhost:* and http://127.0.0.1:* outside production, none in production',
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
    fallback: '',
  }),
  corsMaxAgeSeconds: setting({
    env: 'GATEWAY_CORS_MAX_AGE_SECONDS',
    doc: 'how long a browser may keep a preflight answer',
    schema: positiveIntSchema,
    fallback: '600',
  }),
  operations: setting({
    env: 'GATEWAY_OPERATIONS',
    doc: 'which documents run: any (ad hoc documents within the limits, and registered ones) or registered (only the operations in the manifest)',
    schema: z.enum(['any', 'registered']),
    fallback: 'any',
  }),
  operationsManifestPath: setting({
    env: 'GATEWAY_OPERATIONS_MANIFEST_PATH',
    doc: "the frontends' registered operations, as an Apollo persisted query manifest (npm run schema writes it)",
    schema: z.string().min(1),
    fallback: join(root, 'schema', 'persisted-query-manifest.json'),
  }),
  introspection: setting({
    env: 'GATEWAY_INTROSPECTION',
    doc: 'answer schema introspection: auto means on except in production',
    schema: z.enum(['auto', 'true', 'false']),
    fallback: 'auto',
  }),
  suggestions: setting({
    env: 'GATEWAY_SUGGESTIONS',
    doc: 'keep "Did you mean …?" hints in error messages: auto means on except in production',
    schema: z.enum(['auto', 'true', 'false']),
    fallback: 'auto',
  }),
  limitTokens: setting({
    env: 'GATEWAY_LIMIT_TOKENS',
    doc: 'most tokens in one document (a longer one is refused before it is parsed)',
    schema: positiveIntSchema,
    fallback: '1000',
  }),
  limitDepth: setting({
    env: 'GATEWAY_LIMIT_DEPTH',
    doc: 'deepest nesting of fields in an operation',
    schema: positiveIntSchema,
    fallback: '12',
  }),
  limitAliases: setting({
    env: 'GATEWAY_LIMIT_ALIASES',
    doc: 'most aliased fields in an operation',
    schema: positiveIntSchema,
    fallback: '20',
  }),
  limitDirectives: setting({
    env: 'GATEWAY_LIMIT_DIRECTIVES',
    doc: 'most directives in a document',
    schema: positiveIntSchema,
    fallback: '20',
  }),
  limitRootFields: setting({
    env: 'GATEWAY_LIMIT_ROOT_FIELDS',
    doc: 'most root fields in an operation',
    schema: positiveIntSchema,
    fallback: '20',
  }),
  limitCost: setting({
    env: 'GATEWAY_LIMIT_COST',
    doc: 'most objects an operation may ask for, each list counted at its first/last or default page size',
    schema: positiveIntSchema,
    fallback: '100000',
  }),
  limitErrors: setting({
    env: 'GATEWAY_LIMIT_ERRORS',
    doc: 'most validation errors returned for one document',
    schema: positiveIntSchema,
    fallback: '10',
  }),
  rateStore: setting({
    env: 'GATEWAY_RATE_STORE',
    doc: 'where rate-limit counts live: memory (this gateway alone), postgres or redis (shared by every gateway; give GATEWAY_RATE_STORE_URL)',
    schema: z.enum(['memory', 'postgres', 'redis']),
    fallback: 'memory',
  }),
  rateStoreUrl: setting({
    env: 'GATEWAY_RATE_STORE_URL',
    doc: 'the PostgreSQL or Redis URL of the shared rate-limit store',
    schema: optionalUrlSchema,
    secret: true,
  }),
  rateUserPerSecond: setting({
    env: 'GATEWAY_RATE_USER_PER_SECOND',
    doc: 'operations a second per signed-in user, sustained',
    schema: positiveIntSchema,
    fallback: '10',
  }),
  rateUserBurst: setting({
    env: 'GATEWAY_RATE_USER_BURST',
    doc: 'operations per user allowed at once beyond the sustained rate',
    schema: positiveIntSchema,
    fallback: '100',
  }),
  rateAddressPerSecond: setting({
    env: 'GATEWAY_RATE_ADDRESS_PER_SECOND',
    doc: 'operations and socket messages a second per client address (IPv6 by /64), sustained',
    schema: positiveIntSchema,
    fallback: '20',
  }),
  rateAddressBurst: setting({
    env: 'GATEWAY_RATE_ADDRESS_BURST',
    doc: 'operations per address allowed at once beyond the sustained rate',
    schema: positiveIntSchema,
    fallback: '200',
  }),
  rateCreatePerSecond: setting({
    env: 'GATEWAY_RATE_CREATE_PER_SECOND',
    doc: 'creating mutations (sendMessage, submitOffer, createOrder, register, openConversation) a second per user or, signed out, per address',
    schema: positiveIntSchema,
    fallback: '1',
  }),
  rateCreateBurst: setting({
    env: 'GATEWAY_RATE_CREATE_BURST',
    doc: 'creating mutations allowed at once beyond the sustained rate',
    schema: positiveIntSchema,
    fallback: '20',
  }),
  rateCredentialsPerMinute: setting({
    env: 'GATEWAY_RATE_CREDENTIALS_PER_MINUTE',
    doc: 'credential mutations (login, register, requestPasswordReset, resetPassword, requestSignInLink, signInWithLink) a minute per client address (IPv6 by /64), sustained; past it they are refused at the gateway',
    schema: positiveIntSchema,
    fallback: '6',
  }),
  rateCredentialsRefusalDelayMs: setting({
    env: 'GATEWAY_RATE_CREDENTIALS_REFUSAL_DELAY_MS',
    doc: 'how long a credential mutation refused by its address bucket waits before its 429 (at most its Retry-After), so that a client looping on refusals sends a few a second instead of hundreds; 0 answers at once',
    schema: nonNegativeIntSchema,
    fallback: '1000',
  }),
  rateCredentialsBurst: setting({
    env: 'GATEWAY_RATE_CREDENTIALS_BURST',
    doc: 'credential mutations per address allowed at once beyond the sustained rate',
    schema: positiveIntSchema,
    fallback: '5',
  }),
  rateRefusalsPerMinute: setting({
    env: 'GATEWAY_RATE_REFUSALS_PER_MINUTE',
    doc: 'refused documents (over a limit, not parsing, not valid, not registered) a minute per user or, signed out, per client address, sustained; past it and the burst, every document of that caller but registered operations is refused with RATE_LIMITED until the bucket refills',
    schema: positiveIntSchema,
    fallback: '60',
  }),
  rateRefusalsBurst: setting({
    env: 'GATEWAY_RATE_REFUSALS_BURST',
    doc: 'refused documents per user or address allowed at once beyond the sustained rate',
    schema: positiveIntSchema,
    fallback: '30',
  }),
  rateRefusalsDelayMs: setting({
    env: 'GATEWAY_RATE_REFUSALS_DELAY_MS',
    doc: 'how long a request from a caller held off for its refused documents waits before its 429 (or a socket its error), at most until the hold ends, so that a client looping on refusals sends one a second instead of thousands; 0 answers at once',
    schema: nonNegativeIntSchema,
    fallback: '1000',
  }),
  trustProxy: setting({
    env: 'GATEWAY_TRUST_PROXY',
    doc: 'the proxies in front of the gateway, comma-separated: addresses, CIDRs, or loopback, linklocal, uniquelocal. X-Forwarded-For and traceparent are believed only from them; none: the socket address is the client',
    schema: z.string().transform((text, ctx) => {
      const list = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        proxyTrust(list);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
      return list;
    }),
    fallback: '',
  }),
  ...processSettings(),
  shutdownTimeoutMs: setting({
    env: 'GATEWAY_SHUTDOWN_TIMEOUT_MS',
    doc: 'longest each shutdown step (such as draining requests) may take',
    schema: positiveIntSchema,
    fallback: '10000',
  }),
};
