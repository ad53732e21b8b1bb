// First, so that @apollo/gateway and the query planner load @apollo/federation-internals' exports as plain values.
import './flat-exports.js';
import { readFileSync } from 'node:fs';
import { loadSettings, maskSecrets } from '../foundation/service/config.js';
import { Supergraph } from '@apollo/federation-internals';
import { GraphQLError } from 'graphql';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, RateLimitedError } from '../foundation/core/errors.js';
import { toClientError } from '../foundation/graphql/errors.js';
import { graphqlRoute, type PrepareRequest } from '../foundation/graphql/http.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../foundation/core/pagination.js';
import { connectionBound, HttpService, openFileLimit, sendJson, type RouteHandler } from '../foundation/http/server.js';
import { signGatewayToken } from '../foundation/auth/identity.js';
import { startProcess } from '../foundation/service/process.js';
import { Metrics } from '../foundation/telemetry/metrics.js';
import { loadKeySet, publicJwks, TokenSigner, TokenVerifier, watchKeySet } from '../foundation/auth/tokens.js';
import { accountPages } from './account-pages.js';
import { Authenticator, fromTrustedProxy, proxyTrust, refusal } from './auth.js';
import { createGateway, subgraphReadiness, subgraphsOf, type GatewayContext } from './gateway.js';
import { planRegisteredOperations } from './planning.js';
import { instanceUrls } from './subgraph-fetch.js';
import { SharedEntityCache } from './entity-cache.js';
import { SessionRevocations } from './session-revocations.js';
import { catalogFeed as followCatalog, orderFeed as followOrder } from './entity-feeds.js';
import { CallerEntityCache } from './caller-entity-cache.js';
import { FederatedSubscriptions } from './subscriptions.js';
import { serveGatewaySubscriptions } from './websocket-server.js';
import { idePage, ideRoutes, wantsIde } from './ide.js';
import { applyCors, preflight, type CorsPolicy } from './cors.js';
import { countsAsRefusal, isRefused, loadManifest, OperationAdmission } from './operation-admission.js';
import { DocumentChecker, type OperationLimits } from './operation-limits.js';
import { GatewayRateLimits, HELD_OFF_MESSAGE } from './rate-limits.js';
import { gatewayMetrics } from './metrics.js';

import { gatewaySettingsSpec as spec } from './settings.js';

/** OWN_DESCRIPTOR_MARGIN is what the gateway keeps of the open-file limit beyond its pools to subgraphs. */
const OWN_DESCRIPTOR_MARGIN = 1024;

const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup gateway');
if (!settings.apolloTelemetry) process.env.APOLLO_TELEMETRY_DISABLED = 'true';

const { logger, lifecycle, failedToStart, started } = startProcess('gateway', settings, maskSecrets(spec, settings));

try {
  const supergraphSdl = readFileSync(settings.supergraphPath, 'utf8');
  const unknown = Object.keys(settings.subgraphUrls).filter((name) => !(name in subgraphsOf(supergraphSdl)));
  if (unknown.length > 0)
    throw new Error(`GATEWAY_SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}`);
  const keySource = {
    json: settings.internalKeys,
    file: settings.internalKeysFile,
    createIfMissing: settings.environment !== 'production',
  };
  let internalKeys = await loadKeySet(keySource);
  const signer = await TokenSigner.create(internalKeys);
  const unwatchKeys = watchKeySet(
    keySource,
    settings.internalKeysReloadSeconds * 1000,
    async (set) => {
      await signer.replace(set);
      internalKeys = set;
      logger.info({ kids: set.keys.map((k) => k.kid) }, 'internal signing keys reloaded');
    },
    (err) => logger.error({ err }, 'internal signing keys not reloaded; the previous ones stay'),
  );
  lifecycle.onShutdown({ name: 'key watch', stop: async () => unwatchKeys() });
  /** feedToken signs the gateway's own statement to a subgraph whose change feed it follows. */
  const feedToken = (subgraph: string, requestId: string) => () =>
    signGatewayToken(signer, { viewer: null, ip: null, userAgent: 'fixup-gateway', requestId }, subgraph);
  const revocations = new SessionRevocations(
    settings.sessionEventsUrl,
    feedToken('user', 'session-feed'),
    settings.sessionWindowSeconds * 1000,
    logger,
  );
  // Without the catalog's feed (GATEWAY_CATALOG_EVENTS_URL=''), providers' skills are not kept; without the order's
  // (GATEWAY_ORDER_EVENTS_URL=''), no caller's answer of an order is.
  const catalogFeed = settings.catalogEventsUrl
    ? followCatalog(settings.catalogEventsUrl, feedToken('catalog', 'catalog-feed'), logger)
    : undefined;
  const orderFeed = settings.orderEventsUrl
    ? followOrder(settings.orderEventsUrl, feedToken('order', 'order-feed'), logger)
    : undefined;
  // The change feeds the gateway follows, by the subgraph that owns each.
  const feeds = {
    user: revocations,
    ...(catalogFeed ? { catalog: catalogFeed } : {}),
    ...(orderFeed ? { order: orderFeed } : {}),
  };
  const entityCache = new SharedEntityCache(
    { maxEntries: settings.entityCacheMaxEntries, ttlMs: settings.entityCacheTtlSeconds * 1000 },
    feeds,
    { lookups: (subgraph, hits, misses) => gatewayMetrics.entityLookups(subgraph, hits, misses) },
  );
  const callerCache = new CallerEntityCache(
    { maxEntries: settings.callerCacheMaxEntries, ttlMs: settings.entityCacheTtlSeconds * 1000 },
    feeds,
    { lookups: (subgraph, hits, misses) => gatewayMetrics.callerLookups(subgraph, hits, misses) },
  );
  gatewayMetrics.watchCallerCache(callerCache);
  const entityCaches = { shared: entityCache, callers: callerCache };
  const trust = proxyTrust(settings.trustProxy);
  const authenticator = new Authenticator(
    new TokenVerifier({ jwksUrl: settings.jwksUrl }, settings.jwtIssuer, settings.jwtAudience),
    revocations,
    trust,
    settings.verifiedTokenCacheSize,
  );
  const production = settings.environment === 'production';
  const introspection = settings.introspection === 'true' || (settings.introspection === 'auto' && !production);
  const suggestions = settings.suggestions === 'true' || (settings.suggestions === 'auto' && !production);
  const {
    apollo,
    gateway,
    subgraphs,
    fetchers,
    close: closeFetchers,
  } = createGateway({
    supergraphSdl,
    subgraphUrls: settings.subgraphUrls,
    subgraphTimeoutMs: settings.subgraphTimeoutMs,
    subgraphConnections: settings.subgraphConnections,
    signer,
    tokenTtlSeconds: settings.internalTokenTtlSeconds,
    tokenCacheSize: settings.internalTokenCacheSize,
    introspection,
    suggestions,
    maxTokens: settings.limitTokens,
    readYourWrites: { feeds, waitMs: settings.sessionWaitMs },
    entityCaches,
  });
  const limits: OperationLimits = {
    maxTokens: settings.limitTokens,
    maxDepth: settings.limitDepth,
    maxAliases: settings.limitAliases,
    maxDirectives: settings.limitDirectives,
    maxRootFields: settings.limitRootFields,
    maxCost: settings.limitCost,
    maxErrors: settings.limitErrors,
    defaultListSize: DEFAULT_PAGE_SIZE,
    maxListSize: MAX_PAGE_SIZE,
  };
  const apiSchema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
  const registered = loadManifest(settings.operationsManifestPath);
  const admission = new OperationAdmission(
    registered,
    new DocumentChecker(apiSchema, limits, { introspection, suggestions }),
    settings.operations,
  );
  if (settings.rateStore !== 'memory' && !settings.rateStoreUrl)
    throw new Error(`GATEWAY_RATE_STORE=${settings.rateStore} needs GATEWAY_RATE_STORE_URL`);
  const rateLimits = await GatewayRateLimits.open(
    settings.rateStore === 'memory' ? { kind: 'memory' } : { kind: settings.rateStore, url: settings.rateStoreUrl! },
    {
      user: { perSecond: settings.rateUserPerSecond, burst: settings.rateUserBurst },
      address: { perSecond: settings.rateAddressPerSecond, burst: settings.rateAddressBurst },
      create: { perSecond: settings.rateCreatePerSecond, burst: settings.rateCreateBurst },
      credentials: { perMinute: settings.rateCredentialsPerMinute, burst: settings.rateCredentialsBurst },
      refusals: { perMinute: settings.rateRefusalsPerMinute, burst: settings.rateRefusalsBurst },
    },
  );
  lifecycle.onShutdown({ name: 'rate limits', stop: () => rateLimits.stop() });
  const cors: CorsPolicy = {
    origins:
      settings.corsOrigins.length > 0
        ? settings.corsOrigins
        : production
          ? []
          : ['http://localhost:*', 'http://127.0.0.1:*'],
    maxAgeSeconds: settings.corsMaxAgeSeconds,
  };
  await apollo.start();
  lifecycle.onShutdown({ name: 'subgraph connections', stop: closeFetchers });
  const planned = await planRegisteredOperations(gateway, registered.values());
  logger.info({ planned, manifest: settings.operationsManifestPath }, 'registered operations planned');
  lifecycle.onShutdown({ name: 'graphql', stop: () => apollo.stop() });
  gatewayMetrics.register([...registered.values()].map((op) => op.name));
  gatewayMetrics.watchSubgraphs(() => subgraphReadiness(subgraphs, settings.readinessTimeoutMs));
  const ideOn = settings.ide === 'true' || (settings.ide === 'auto' && settings.environment !== 'production');
  // Every document is resolved, limited and validated, and counted against the caller's rate limits, before Apollo
  // plans anything.
  const prepare: PrepareRequest = async (fields, _req, scope) => {
    const refuse = (status: number, errors: readonly GraphQLError[], headers?: Record<string, string>) => {
      scope.outcome = 'refused';
      scope.errorCodes = [...new Set(errors.map((e) => String(e.extensions.code)))];
      return { status, headers, body: { errors: errors.map((e) => toClientError(e.toJSON(), e)) } };
    };
    try {
      // A caller whose documents keep being refused waits for its 429, so that a flood of them costs timers here
      // instead of parsing, and the legitimate traffic beside it keeps its latency (npm run bench:abuse). Registered
      // operations still run: they are not parsed, and others behind the same address (a NAT) may be sending them.
      const held = admission.namesRegistered(fields) ? 0 : rateLimits.penalty(scope.caller!);
      if (held > 0) {
        await sleep(Math.min(settings.rateRefusalsDelayMs, held));
        throw new RateLimitedError(Math.max(1, Math.ceil(held / 1000)), HELD_OFF_MESSAGE);
      }
      await rateLimits.consume(scope.caller!);
      const admitted = admission.admit(fields);
      if (isRefused(admitted)) {
        // Counted without waiting for the store; a store that fails to count does not turn the refusal into an error.
        if (countsAsRefusal(admitted.errors))
          void rateLimits
            .countRefusal(scope.caller!)
            .catch((err: unknown) => scope.logger.warn({ err }, 'refused document not counted'));
        return refuse(admitted.status, admitted.errors);
      }
      if (admitted.operationType === 'mutation') {
        await rateLimits.consumeCredentials(scope.caller!, admitted.rootFields).catch(async (err: unknown) => {
          // A flooding client waits for its refusal, which costs a timer, so that it does not loop on cheap refusals
          // and crowd out others.
          if (err instanceof RateLimitedError)
            await sleep(Math.min(settings.rateCredentialsRefusalDelayMs, Number(err.details.retryAfterSeconds) * 1000));
          throw err;
        });
        await rateLimits.consumeCreate(scope.caller!, admitted.rootFields);
      }
      // Apollo gets the document's text; the id that named it is spent here.
      const { documentId: _documentId, extensions: given, ...rest } = fields;
      const { persistedQuery: _persistedQuery, ...extensions } =
        given && typeof given === 'object' ? (given as Record<string, unknown>) : {};
      return {
        fields: { ...rest, query: admitted.query, ...(Object.keys(extensions).length > 0 ? { extensions } : {}) },
      };
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      const seconds = String(err.details.retryAfterSeconds);
      return refuse(
        429,
        [
          new GraphQLError(err.message, {
            extensions: { code: err.code, retryAfterSeconds: err.details.retryAfterSeconds },
          }),
        ],
        { 'retry-after': seconds },
      );
    }
  };
  const execute = graphqlRoute<GatewayContext>(
    apollo,
    async (_req, scope) => ({
      scope,
      caller: scope.caller!,
      deadline: performance.now() + settings.operationTimeoutMs,
    }),
    settings.httpBodyLimitBytes,
    { prepare },
  );
  // The token is checked before anything is parsed or planned.
  const graphql: RouteHandler = async (req, res, scope) => {
    applyCors(req, res, cors);
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
  const getGraphql: RouteHandler = (req, res, scope) =>
    ideOn && wantsIde(req) ? idePage(req, res) : graphql(req, res, scope);
  let feedReadOnce = false;
  // Clients may hold no more connections than the open-file limit leaves once the gateway's own are set aside: its
  // pools to every subgraph instance (HTTP and subscription sockets), and a margin for feeds, key sets and files.
  const ownConnections =
    Object.values(subgraphs).reduce((n, urls) => n + instanceUrls(urls).length, 0) *
      (settings.subgraphConnections + settings.subscriptionsPoolSize) +
    OWN_DESCRIPTOR_MARGIN;
  const fileLimit = openFileLimit();
  const clientConnections = connectionBound(settings.httpMaxConnections, ownConnections, fileLimit);
  if (clientConnections.lowered)
    logger.warn(
      { httpMaxConnections: settings.httpMaxConnections, openFileLimit: fileLimit, bound: clientConnections.bound },
      `GATEWAY_HTTP_MAX_CONNECTIONS lowered to ${clientConnections.bound}: the open-file limit (ulimit -Hn) is ${fileLimit} and the gateway keeps ${ownConnections} for its own connections; raise the limit to allow more`,
    );
  const http = new HttpService({
    service: 'gateway',
    logger,
    metrics: new Metrics('gateway', {
      operationLabel: (name) => gatewayMetrics.operationLabel(name),
      onRequest: (r) => gatewayMetrics.finished(r),
    }),
    host: settings.httpHost,
    port: settings.httpPort,
    admin: { host: settings.adminHost, port: settings.adminPort },
    // A client's own traceparent could force every request to be sampled and traced: only a trusted proxy's is
    // continued.
    trustTraceContext: (req) => fromTrustedProxy(req, trust),
    // Ready once the supergraph is loaded, Apollo started (before this server exists) and the session feed was read
    // once, so that a new gateway never serves tokens revoked before it started. After that a subgraph down (or the
    // feed lost) is reported, not fatal: its fields answer SERVICE_UNAVAILABLE, and every other field still works.
    readiness: async () => {
      const graph = await subgraphReadiness(subgraphs, settings.readinessTimeoutMs);
      feedReadOnce ||= revocations.isSynced;
      return {
        ready: feedReadOnce,
        checks: {
          ...graph.checks,
          sessionFeed: revocations.isSynced ? 'in sync' : 'not in sync',
          ...(catalogFeed ? { catalogFeed: catalogFeed.isSynced ? 'in sync' : 'not in sync' } : {}),
          ...(orderFeed ? { orderFeed: orderFeed.isSynced ? 'in sync' : 'not in sync' } : {}),
        },
      };
    },
    headersTimeoutMs: settings.httpHeadersTimeoutMs,
    requestTimeoutMs: settings.httpRequestTimeoutMs,
    keepAliveTimeoutMs: settings.httpKeepAliveTimeoutMs,
    maxConnections: clientConnections.bound,
    backlog: settings.listenBacklog,
    routes: {
      'OPTIONS /graphql': (req, res) => preflight(req, res, cors),
      'POST /graphql': graphql,
      'GET /graphql': getGraphql,
      'GET /.well-known/gateway-jwks.json': (_req, res) => sendJson(res, 200, publicJwks(internalKeys)),
      ...(ideOn ? { ...ideRoutes(), ...accountPages() } : {}),
    },
  });
  lifecycle.onShutdown({ name: 'http', stop: () => http.close(settings.shutdownTimeoutMs) });
  const subscriptions = new FederatedSubscriptions(
    supergraphSdl,
    fetchers,
    Object.fromEntries(Object.entries(subgraphs).map(([name, url]) => [name, instanceUrls(url)])),
    signer,
    {
      poolSize: settings.subscriptionsPoolSize,
      resumeTimeoutMs: settings.subscriptionsResumeTimeoutMs,
      maxQueuedEvents: settings.wsMaxQueuedEvents,
      tokenTtlSeconds: settings.internalTokenTtlSeconds,
      batchMs: settings.subscriptionsBatchMs,
      batchMaxEntities: settings.subscriptionsBatchMaxEntities,
    },
    logger,
    entityCaches,
  );
  lifecycle.onShutdown({ name: 'subgraph sockets', stop: () => subscriptions.close() });
  const sockets = serveGatewaySubscriptions({
    server: http.server,
    subscriptions,
    authenticator,
    revocations,
    allowedOrigins: settings.wsAllowedOrigins,
    maxBufferedBytes: settings.wsMaxBufferedBytes,
    admission,
    rateLimits,
    refusalsDelayMs: settings.rateRefusalsDelayMs,
    trust,
    caps: {
      socketsPerUser: settings.wsSocketsPerUser,
      socketsPerAddress: settings.wsSocketsPerAddress,
      subscriptionsPerSocket: settings.wsSubscriptionsPerSocket,
      subscribesPerSecond: settings.wsSubscribesPerSecond,
      initTimeoutMs: settings.wsInitTimeoutMs,
      maxPayloadBytes: settings.wsMaxPayloadBytes,
      pingIntervalMs: settings.wsPingIntervalMs,
    },
    logger,
  });
  lifecycle.onShutdown({ name: 'websockets', stop: () => sockets.close() });
  started();
  const port = await http.listen();
  // The feed is followed once the gateway listens: the user subgraph checks the feed request against this gateway's
  // JWKS.
  revocations.start();
  lifecycle.onShutdown({ name: 'session feed', stop: async () => revocations.stop() });
  catalogFeed?.start();
  if (catalogFeed) lifecycle.onShutdown({ name: 'catalog feed', stop: async () => catalogFeed.stop() });
  orderFeed?.start();
  if (orderFeed) lifecycle.onShutdown({ name: 'order feed', stop: async () => orderFeed.stop() });
  logger.info(
    {
      url: `http://${settings.httpHost}:${port}/graphql`,
      admin: `http://${settings.adminHost}:${http.adminPort}`,
      subgraphs,
      ide: ideOn,
    },
    'ready',
  );
} catch (err) {
  await failedToStart(err);
}
