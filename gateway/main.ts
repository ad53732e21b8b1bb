import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  booleanSchema,
  environmentSchema,
  loadSettings,
  logLevelSchema,
  maskSecrets,
  optionalUrlSchema,
  portSchema,
  positiveIntSchema,
  setting,
} from '../foundation/config.js';
import { AppError } from '../foundation/errors.js';
import { graphqlRoute } from '../foundation/graphql-http.js';
import { HttpService, sendJson, type RouteHandler } from '../foundation/http-server.js';
import { signGatewayToken } from '../foundation/identity.js';
import { Lifecycle } from '../foundation/lifecycle.js';
import { createLogger } from '../foundation/logger.js';
import { Metrics } from '../foundation/metrics.js';
import { startTelemetry } from '../foundation/telemetry.js';
import { loadKeySet, publicJwks, TokenSigner, TokenVerifier } from '../foundation/tokens.js';
import { accountPages } from './account-pages.js';
import { Authenticator, refusal } from './auth.js';
import { createGateway, SubgraphDataSource, subgraphReadiness, subgraphsOf, type GatewayContext } from './gateway.js';
import { SessionRevocations } from './session-revocations.js';
import { FederatedSubscriptions } from './subscriptions.js';
import { serveGatewaySubscriptions } from './websocket-server.js';
import { idePage, ideRoutes, wantsIde } from './ide.js';
import { gatewayMetrics, registeredOperationNames } from './metrics.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** subgraphUrlsSchema parses `name=url,name=url` into a map. */
const subgraphUrlsSchema = z
  .string()
  .transform((text, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [name, url] = pair.split(/=(.*)/s);
      if (!name || !url || !URL.canParse(url)) {
        ctx.addIssue({ code: 'custom', message: `"${pair}" is not name=url` });
        continue;
      }
      out[name] = url;
    }
    return out;
  });

const spec = {
  environment: setting({ env: 'NODE_ENV', doc: 'development, test or production', schema: environmentSchema, fallback: 'development' }),
  httpHost: setting({ env: 'GATEWAY_HTTP_HOST', doc: 'interface to listen on', schema: z.string().min(1), fallback: '127.0.0.1' }),
  httpPort: setting({ env: 'GATEWAY_HTTP_PORT', doc: 'port to listen on', schema: portSchema, fallback: '4000' }),
  httpBodyLimitBytes: setting({ env: 'GATEWAY_HTTP_BODY_LIMIT_BYTES', doc: 'largest request body accepted', schema: positiveIntSchema, fallback: '1048576' }),
  supergraphPath: setting({
    env: 'GATEWAY_SUPERGRAPH_PATH',
    doc: 'the composed supergraph to serve (npm run schema writes it)',
    schema: z.string().min(1),
    fallback: join(root, 'schema', 'supergraph.graphql'),
  }),
  subgraphUrls: setting({
    env: 'GATEWAY_SUBGRAPH_URLS',
    doc: 'routing URLs that replace the supergraph\'s, as name=url pairs separated by commas (e.g. order=http://order:4003/graphql)',
    schema: subgraphUrlsSchema,
    fallback: '',
  }),
  subgraphTimeoutMs: setting({ env: 'GATEWAY_SUBGRAPH_TIMEOUT_MS', doc: 'longest one subgraph fetch may take', schema: positiveIntSchema, fallback: '10000' }),
  readinessTimeoutMs: setting({ env: 'GATEWAY_READINESS_TIMEOUT_MS', doc: 'longest a subgraph readiness check may take', schema: positiveIntSchema, fallback: '2000' }),
  ide: setting({
    env: 'GATEWAY_IDE',
    doc: 'serve GraphiQL at GET /graphql to browsers, and the pages mailed links open: auto means on in development and test, off in production',
    schema: z.enum(['auto', 'true', 'false']),
    fallback: 'auto',
  }),
  apolloTelemetry: setting({
    env: 'GATEWAY_APOLLO_TELEMETRY',
    doc: "let @apollo/gateway send its anonymous usage metrics to Apollo (it does unless told not to)",
    schema: booleanSchema,
    fallback: 'false',
  }),
  jwksUrl: setting({ env: 'GATEWAY_JWKS_URL', doc: "the user subgraph's JWKS, which verifies access tokens (cached; refetched on an unknown kid)", schema: z.url(), fallback: 'http://localhost:4001/.well-known/jwks.json' }),
  jwtIssuer: setting({ env: 'GATEWAY_JWT_ISSUER', doc: 'the iss access tokens must have', schema: z.string().min(1), fallback: 'fixup-user' }),
  jwtAudience: setting({ env: 'GATEWAY_JWT_AUDIENCE', doc: 'the aud access tokens must have', schema: z.string().min(1), fallback: 'fixup' }),
  sessionEventsUrl: setting({
    env: 'GATEWAY_SESSION_EVENTS_URL',
    doc: "the user subgraph's feed of stale tokens and ended sessions",
    schema: z.url(),
    fallback: 'http://localhost:4001/internal/session-events',
  }),
  sessionWindowSeconds: setting({ env: 'GATEWAY_SESSION_WINDOW_SECONDS', doc: 'how long a revocation is remembered: at least the longest access-token lifetime', schema: positiveIntSchema, fallback: '960' }),
  internalKeys: setting({ env: 'GATEWAY_INTERNAL_KEYS', doc: 'private Ed25519 JWK set as JSON that signs the gateway\'s token to subgraphs; wins over the file', schema: z.string().optional().transform((v) => (v ? v : undefined)), secret: true }),
  internalKeysFile: setting({
    env: 'GATEWAY_INTERNAL_KEYS_FILE',
    doc: 'file holding that key set; outside production it is made on first start',
    schema: z.string().min(1),
    fallback: join(root, '.data', 'keys', 'gateway-internal.jwks.json'),
  }),
  wsAllowedOrigins: setting({
    env: 'GATEWAY_WS_ALLOWED_ORIGINS',
    doc: 'browser origins that may open subscription sockets, comma-separated (* for any); clients that send no Origin are let through',
    schema: z.string().transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean)),
    fallback: 'http://localhost:3000,http://localhost:4000,http://localhost:5173',
  }),
  wsMaxBufferedBytes: setting({ env: 'GATEWAY_WS_MAX_BUFFERED_BYTES', doc: 'unsent data a subscription socket may hold before it is closed as a slow consumer (4008)', schema: positiveIntSchema, fallback: '1048576' }),
  internalTokenTtlSeconds: setting({
    env: 'GATEWAY_INTERNAL_TOKEN_TTL_SECONDS',
    doc: "lifetime of the token that states the caller to subgraphs (made per request, and per event of a subscription)",
    schema: positiveIntSchema,
    fallback: '60',
  }),
  trustProxyHops: setting({ env: 'GATEWAY_TRUST_PROXY_HOPS', doc: 'how many proxies in front of the gateway append to X-Forwarded-For (0: use the socket address)', schema: z.coerce.number().int().min(0).max(10), fallback: '0' }),
  logLevel: setting({ env: 'LOG_LEVEL', doc: 'fatal, error, warn, info, debug, trace or silent', schema: logLevelSchema, fallback: 'info' }),
  otlpEndpoint: setting({ env: 'OTEL_EXPORTER_OTLP_ENDPOINT', doc: 'OpenTelemetry collector base URL for traces (OTLP over HTTP); none: spans are not exported', schema: optionalUrlSchema }),
  shutdownTimeoutMs: setting({ env: 'GATEWAY_SHUTDOWN_TIMEOUT_MS', doc: 'longest each shutdown step (such as draining requests) may take', schema: positiveIntSchema, fallback: '10000' }),
};

const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup gateway');
if (!settings.apolloTelemetry) process.env.APOLLO_TELEMETRY_DISABLED = 'true';

const telemetry = startTelemetry({ service: 'gateway', otlpEndpoint: settings.otlpEndpoint });
const logger = createLogger({ service: 'gateway', level: settings.logLevel });
const lifecycle = new Lifecycle(logger, settings.shutdownTimeoutMs);
lifecycle.listen();
lifecycle.onShutdown({ name: 'telemetry', stop: () => telemetry.shutdown() });
logger.info({ settings: maskSecrets(spec, settings) }, 'starting');

try {
  const supergraphSdl = readFileSync(settings.supergraphPath, 'utf8');
  const unknown = Object.keys(settings.subgraphUrls).filter((name) => !(name in subgraphsOf(supergraphSdl)));
  if (unknown.length > 0) throw new Error(`GATEWAY_SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}`);
  const internalKeys = await loadKeySet({ json: settings.internalKeys, file: settings.internalKeysFile, createIfMissing: settings.environment !== 'production' });
  const signer = await TokenSigner.create(internalKeys);
  const revocations = new SessionRevocations(
    settings.sessionEventsUrl,
    () => signGatewayToken(signer, { viewer: null, ip: null, userAgent: 'fixup-gateway', requestId: 'session-feed' }),
    settings.sessionWindowSeconds * 1000,
    logger,
  );
  const authenticator = new Authenticator(new TokenVerifier({ jwksUrl: settings.jwksUrl }, settings.jwtIssuer, settings.jwtAudience), revocations, settings.trustProxyHops);
  const { apollo, subgraphs } = createGateway({
    supergraphSdl,
    subgraphUrls: settings.subgraphUrls,
    subgraphTimeoutMs: settings.subgraphTimeoutMs,
    signer,
    tokenTtlSeconds: settings.internalTokenTtlSeconds,
  });
  await apollo.start();
  lifecycle.onShutdown({ name: 'graphql', stop: () => apollo.stop() });
  gatewayMetrics.register(registeredOperationNames(join(root, 'schema', 'persisted-query-manifest.json')));
  gatewayMetrics.watchSubgraphs(() => subgraphReadiness(subgraphs, settings.readinessTimeoutMs));
  const ideOn = settings.ide === 'true' || (settings.ide === 'auto' && settings.environment !== 'production');
  const execute = graphqlRoute<GatewayContext>(apollo, async (_req, scope) => ({ scope, caller: scope.caller! }), settings.httpBodyLimitBytes);
  // The token is checked before anything is parsed or planned.
  const graphql: RouteHandler = async (req, res, scope) => {
    try {
      scope.caller = await authenticator.callerOf(req, scope.requestId);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      scope.outcome = 'refused';
      scope.errorCodes = [err.code];
      const { status, body } = refusal(err);
      return sendJson(res, status, body);
    }
    return execute(req, res, scope);
  };
  const getGraphql: RouteHandler = (req, res, scope) => (ideOn && wantsIde(req) ? idePage(req, res) : graphql(req, res, scope));
  let feedReadOnce = false;
  const http = new HttpService({
    service: 'gateway',
    logger,
    metrics: new Metrics('gateway', { operationLabel: (name) => gatewayMetrics.operationLabel(name), onRequest: (r) => gatewayMetrics.finished(r) }),
    host: settings.httpHost,
    port: settings.httpPort,
    // Ready once the supergraph is loaded, Apollo started (before this server exists) and the session feed was read
    // once, so that a new gateway never serves tokens revoked before it started. After that a subgraph down (or the
    // feed lost) is reported, not fatal: its fields answer SERVICE_UNAVAILABLE, and every other field still works.
    readiness: async () => {
      const graph = await subgraphReadiness(subgraphs, settings.readinessTimeoutMs);
      feedReadOnce ||= revocations.isSynced;
      return { ready: feedReadOnce, checks: { ...graph.checks, sessionFeed: revocations.isSynced ? 'in sync' : 'not in sync' } };
    },
    routes: {
      'POST /graphql': graphql,
      'GET /graphql': getGraphql,
      'GET /.well-known/gateway-jwks.json': (_req, res) => sendJson(res, 200, publicJwks(internalKeys)),
      ...(ideOn ? { ...ideRoutes(), ...accountPages() } : {}),
    },
  });
  lifecycle.onShutdown({ name: 'http', stop: () => http.close(settings.shutdownTimeoutMs) });
  const subscriptions = new FederatedSubscriptions(
    supergraphSdl,
    Object.fromEntries(Object.entries(subgraphs).map(([name, url]) => [name, new SubgraphDataSource(url, settings.subgraphTimeoutMs, signer, settings.internalTokenTtlSeconds)])),
    subgraphs,
    signer,
    settings.internalTokenTtlSeconds,
    logger,
  );
  const sockets = serveGatewaySubscriptions({
    server: http.server,
    subscriptions,
    authenticator,
    revocations,
    allowedOrigins: settings.wsAllowedOrigins,
    maxBufferedBytes: settings.wsMaxBufferedBytes,
    logger,
  });
  lifecycle.onShutdown({ name: 'websockets', stop: () => sockets.close() });
  const port = await http.listen();
  // The feed is followed once the gateway listens: the user subgraph checks the feed request against this gateway's JWKS.
  revocations.start();
  lifecycle.onShutdown({ name: 'session feed', stop: async () => revocations.stop() });
  logger.info({ url: `http://${settings.httpHost}:${port}/graphql`, subgraphs, ide: ideOn }, 'ready');
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  await lifecycle.shutdown('failed to start');
  process.exit(1);
}
