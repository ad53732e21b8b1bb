import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { requestScopePlugin, toClientError } from '../foundation/graphql/errors.js';
import type { Readiness } from '../foundation/http/server.js';
import type { TokenSigner } from '../foundation/auth/tokens.js';
import { InternalTokenCache } from './internal-tokens.js';
import { PlanExecutor, type EntityCaches } from './execution.js';
import { instanceUrls, SubgraphFetcher, type FetchContext } from './subgraph-fetch.js';
import { withoutSuggestions } from './operation-limits.js';
import { gatewayMetrics } from './metrics.js';
import type { FeedFollower } from '../foundation/http/feed-follower.js';
import { FeedPositions } from './feed-positions.js';

/**
 * GatewayContext is the per-request context of the gateway: the verified
 * caller and the operation's deadline. The tokens sent to subgraphs are cached
 * per caller and subgraph (gateway/internal-tokens.ts), not per request.
 */
export type GatewayContext = FetchContext;

/** SubgraphDataSource is the gateway's fetcher of one subgraph (gateway/subgraph-fetch.ts). */
export type SubgraphDataSource = SubgraphFetcher<GatewayContext>;

/** GatewayOptions configures the gateway. */
export interface GatewayOptions {
  supergraphSdl: string;
  /** subgraphUrls overrides the routing URLs that the supergraph names, by subgraph name. */
  subgraphUrls: Record<string, string>;
  subgraphTimeoutMs: number;
  /** subgraphConnections bounds the keep-alive connections to each subgraph. */
  subgraphConnections: number;
  signer: TokenSigner;
  tokenTtlSeconds: number;
  /** tokenCacheSize bounds how many callers' internal tokens are kept. */
  tokenCacheSize: number;
  /** introspection answers schema queries; off in production unless set. */
  introspection: boolean;
  /** suggestions keeps graphql's "Did you mean …?" hints in error messages; off in production unless set. */
  suggestions: boolean;
  /** maxTokens stops the parser, behind the gateway's own check of each document. */
  maxTokens: number;
  /**
   * readYourWrites makes an answer whose mutation wrote a feed's events (its subgraph named the feed's sequence,
   * FEED_SEQ_HEADERS) wait for the gateway's follower of that subgraph's feed, at most waitMs (then it answers anyway
   * and logs a warning). feeds are by subgraph, as the entity cache has them.
   */
  readYourWrites?: { feeds: Readonly<Record<string, FeedWait>>; waitMs: number };
  /**
   * entityCaches keep shared entity fields (gateway/entity-cache.ts) and callers' own kept fields
   * (gateway/caller-entity-cache.ts) between requests.
   */
  entityCaches?: EntityCaches;
}

/**
 * oneErrorPerPlace reports identical errors (the same message, path, locations and extensions) once. A shareable root
 * field answered by two subgraphs in parallel (`me`, from user and order, in `CustomerDashboard`) fails in both the
 * same way when the caller is signed out; the client is told once.
 */
function oneErrorPerPlace(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          if (!errors || errors.length < 2) return;
          const seen = new Set<string>();
          const distinct = errors.filter((e) => {
            // The whole error as the client sees it: only errors no client could tell apart are merged.
            const key = JSON.stringify(e);
            if (seen.has(key)) return false;
            seen.add(key);
            return true;
          });
          if (distinct.length < errors.length) response.body.singleResult.errors = distinct;
        },
      };
    },
  };
}

/**
 * FeedWait is what read-your-writes needs of the gateway's follower of a subgraph's feed: to wait for a mutation's
 * events, and to tell subgraphs that keep a copy of the feed how far the gateway's copy has come.
 */
export type FeedWait = Pick<FeedFollower<{ seq: number }>, 'waitFor' | 'position' | 'isSynced'>;

/**
 * readYourWrites holds a response whose subgraph fetches wrote feed events (a role change, a logout, an ended session,
 * a new display name on the session feed; a provider's skills on the catalog's) until this gateway's followers of
 * those feeds have applied them, so that the client's next request with an old token is refused here and sees the
 * change in what the gateway keeps. Bounded by waitMs: then the answer goes anyway, with a warning.
 */
function readYourWrites(feeds: Readonly<Record<string, FeedWait>>, waitMs: number): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          const seqs = contextValue.feedSeqs;
          if (seqs === undefined) return;
          const started = performance.now();
          await Promise.all(
            Object.entries(seqs).map(async ([subgraph, seq]) => {
              const feed = Object.hasOwn(feeds, subgraph) ? feeds[subgraph] : undefined;
              if (!feed || (await feed.waitFor(seq, waitMs))) return;
              contextValue.scope.logger.warn(
                { subgraph, seq, waitedMs: Math.round(performance.now() - started) },
                "a feed did not reach this request's changes in time; answering anyway",
              );
            }),
          );
        },
      };
    },
  };
}

/** subgraphsOf lists the subgraphs a supergraph names, with their routing URLs. */
export function subgraphsOf(supergraphSdl: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g))
    out[match[1]!] = match[2]!;
  return out;
}

/**
 * createGateway makes the Apollo Server that fronts the supergraph: the
 * gateway plans each operation and fetches from the subgraphs; errors are
 * mapped once to the contract's codes.
 */
export function createGateway(options: GatewayOptions): {
  apollo: ApolloServer<GatewayContext>;
  gateway: ApolloGateway;
  subgraphs: Record<string, string>;
  fetchers: Record<string, SubgraphDataSource>;
  close(): Promise<void>;
} {
  const subgraphs = { ...subgraphsOf(options.supergraphSdl), ...options.subgraphUrls };
  const tokens = new InternalTokenCache({
    signer: options.signer,
    ttlSeconds: options.tokenTtlSeconds,
    maxEntries: options.tokenCacheSize,
  });
  // Subgraphs that keep a copy of feeds this gateway follows are told how far the gateway knows them to have come.
  const feedPositions = new FeedPositions(options.readYourWrites?.feeds ?? {});
  const fetchers: Record<string, SubgraphDataSource> = Object.fromEntries(
    Object.entries(subgraphs).map(([name, url]) => [
      name,
      new SubgraphFetcher<GatewayContext>({
        name,
        url,
        timeoutMs: options.subgraphTimeoutMs,
        connections: options.subgraphConnections,
        tokens,
        feedPositions,
      }),
    ]),
  );
  gatewayMetrics.nameSubgraphs(subgraphs);
  // Each fetch is measured (duration, errors by code, in flight) around the pooled fetcher.
  const services: Record<string, GraphQLDataSource> = Object.fromEntries(
    Object.keys(subgraphs).map((name) => [
      name,
      {
        process: (request: GraphQLDataSourceProcessOptions) =>
          gatewayMetrics.timeFetch(name, () =>
            fetchers[name]!.process(request as GraphQLDataSourceProcessOptions<GatewayContext>),
          ),
      },
    ]),
  );
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    experimental_didResolveQueryPlan: ({ requestContext }) => gatewayMetrics.planned(requestContext.context),
    buildService: ({ name }) => services[name]!,
  });
  gatewayMetrics.watchPlanCache(gateway);
  // Query plans run in gateway/execution.ts; what it does not run, @apollo/gateway's executor does.
  const executor = new PlanExecutor(
    gateway,
    services,
    {
      planned: (requestContext) => gatewayMetrics.planned(requestContext.context),
      planCacheHit: () => gatewayMetrics.planCacheHit(),
    },
    options.entityCaches,
  );
  const apollo = new ApolloServer<GatewayContext>({
    gateway: executor.wrap(),
    formatError: options.suggestions
      ? toClientError
      : (formatted, error) => {
          const out = toClientError(formatted, error);
          return { ...out, message: withoutSuggestions(out.message) };
        },
    includeStacktraceInErrorResponses: false,
    introspection: options.introspection,
    parseOptions: { maxTokens: options.maxTokens },
    // Documents named by id are resolved before Apollo (gateway/operation-admission.ts): Apollo's own cache would let a
    // client register documents.
    persistedQueries: false,
    // The process's Lifecycle owns signals and stops Apollo in order.
    stopOnTerminationSignals: false,
    plugins: [
      requestScopePlugin<GatewayContext>(),
      gatewayMetrics.plugin<GatewayContext>(),
      ApolloServerPluginLandingPageDisabled(),
      oneErrorPerPlace(),
      ...(options.readYourWrites ? [readYourWrites(options.readYourWrites.feeds, options.readYourWrites.waitMs)] : []),
    ],
  });
  return {
    apollo,
    gateway,
    subgraphs,
    fetchers,
    close: async () => void (await Promise.all(Object.values(fetchers).map((f) => f.close()))),
  };
}

/**
 * subgraphReadiness asks every subgraph's public GET /healthz (its readiness,
 * database included, is on its admin port, for its orchestrator only) and says
 * which answer: `up`, `unreachable (…)` or `unhealthy (HTTP n)`.
 */
export async function subgraphReadiness(subgraphs: Record<string, string>, timeoutMs: number): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(subgraphs).map(async ([name, urls]) => {
      try {
        // A subgraph with several instances is up when one of them is: the others are failed over.
        const answers = await Promise.allSettled(
          instanceUrls(urls).map((url) => fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(timeoutMs) })),
        );
        for (const a of answers) if (a.status === 'fulfilled') await a.value.body?.cancel();
        const ok = answers.find((a) => a.status === 'fulfilled' && a.value.ok);
        if (ok) return [name, 'up'] as const;
        const first = answers.find((a) => a.status === 'fulfilled') ?? answers[0]!;
        if (first.status === 'rejected') throw first.reason;
        return [name, `unhealthy (HTTP ${(first as PromiseFulfilledResult<Response>).value.status})`] as const;
      } catch (err) {
        return [name, `unreachable (${(err as Error).message})`] as const;
      }
    }),
  );
  for (const [name, state] of entries) gatewayMetrics.up(name, state === 'up');
  const states = Object.fromEntries(entries);
  return { ready: entries.every(([, state]) => state === 'up'), checks: { subgraphs: states } };
}
