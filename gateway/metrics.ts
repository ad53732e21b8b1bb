import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorCode } from '../contracts/errors.js';
import { counter, gauge, histogram, type FinishedRequest } from '../foundation/telemetry/metrics.js';

/**
 * REFUSAL_CODES are the codes of a request refused before (or instead of)
 * running: each counts once in fixup_gateway_refusals_total, by reason.
 */
const REFUSAL_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'UNAUTHENTICATED',
  'SESSION_STALE',
  'RATE_LIMITED',
  'OPERATION_TOO_COMPLEX',
  'OPERATION_NOT_REGISTERED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
]);

/**
 * GatewayMetrics is what the gateway measures beyond every process's request
 * metrics: each subgraph fetch, parse/validate/plan time and the plan cache,
 * refusals by reason, sockets and subscriptions, and which subgraphs are up.
 * Each instrumentation point is one call on `gatewayMetrics`.
 */
export class GatewayMetrics {
  private readonly fetchDuration = histogram(
    'fixup_gateway_subgraph_fetch_duration_seconds',
    "Duration of the gateway's fetches to each subgraph, by outcome (ok, error, unavailable)",
    ['subgraph', 'outcome'],
  );
  private readonly fetchErrors = counter(
    'fixup_gateway_subgraph_fetch_errors_total',
    'Errors in subgraph answers (or failed fetches, as SERVICE_UNAVAILABLE), by subgraph and code',
    ['subgraph', 'code'],
  );
  private readonly inFlight = gauge(
    'fixup_gateway_subgraph_fetches_in_flight',
    'Fetches to each subgraph waiting for an answer',
    ['subgraph'],
  );
  private readonly phases = histogram(
    'fixup_gateway_phase_duration_seconds',
    'Time the gateway spends per operation in parse, validate and plan',
    ['phase'],
  );
  private readonly planCache = counter(
    'fixup_gateway_plan_cache_lookups_total',
    'Query plan cache look-ups by result (hit, miss)',
    ['result'],
  );
  private readonly entityCache = counter(
    'fixup_gateway_entity_cache_lookups_total',
    "Entities of shared-field fetches answered from the gateway's cache (hit) or asked of the subgraph (miss), by subgraph",
    ['subgraph', 'result'],
  );
  private readonly callerCache = counter(
    'fixup_gateway_caller_cache_lookups_total',
    "Entities of fetches of a caller's own kept fields (an order's status) answered from the gateway's cache (hit) or asked of the subgraph (miss), by subgraph",
    ['subgraph', 'result'],
  );
  private readonly refusals = counter(
    'fixup_gateway_refusals_total',
    'Requests refused before running, by reason (a limit, the rate limit, not registered, invalid, unauthenticated)',
    ['reason'],
  );
  private readonly sockets = gauge(
    'fixup_gateway_websocket_connections',
    'Open subscription sockets (after connection_init was accepted)',
  );
  private readonly slowConsumers = counter(
    'fixup_gateway_slow_consumer_closes_total',
    'Subscription sockets closed because the client read too slowly (4008)',
  );
  private readonly subscriptions = gauge(
    'fixup_gateway_subscriptions',
    'Live subscriptions, by the subgraph that owns their root field',
    ['subgraph'],
  );
  private readonly deliveries = counter(
    'fixup_gateway_subscription_deliveries_total',
    'Subscription events shaped and sent to clients, by subgraph',
    ['subgraph'],
  );
  private readonly reconnects = counter(
    'fixup_gateway_subscription_upstream_reconnects_total',
    'Sockets to subgraphs opened again after a drop, by subgraph',
    ['subgraph'],
  );
  private readonly subgraphsByUrl = new Map<string, string>();
  private registered = new Set<string>();
  private checked = 0;
  private checking: Promise<unknown> | undefined;
  private checkSubgraphs: (() => Promise<unknown>) | undefined;

  constructor() {
    // A scrape runs the check unless a readiness probe ran it in the last 5 s.
    gauge(
      'fixup_gateway_subgraph_up',
      'Whether each subgraph answers its readiness check (1) or not (0), checked at most every 5 s',
      ['subgraph'],
      async () => {
        if (!this.checkSubgraphs || Date.now() - this.checked < 5000) return;
        await (this.checking ??= this.checkSubgraphs().finally(() => (this.checking = undefined)));
      },
    );
  }

  /** register sets the operation names that are counted by name; any other is `unregistered`. */
  register(names: Iterable<string>): void {
    this.registered = new Set(names);
  }

  /** operationLabel names an operation in the metrics. */
  operationLabel(name: string | undefined): string {
    return name && this.registered.has(name) ? name : 'unregistered';
  }

  /** nameSubgraphs tells the metrics which subgraph each routing URL is. */
  nameSubgraphs(urls: Record<string, string>): void {
    for (const [name, url] of Object.entries(urls)) this.subgraphsByUrl.set(url, name);
  }

  /** subgraphOf names the subgraph at a routing URL. */
  subgraphOf(url: string | undefined): string {
    return (url && this.subgraphsByUrl.get(url)) || 'unknown';
  }

  /** timeFetch measures one subgraph fetch: its duration, its errors by code, and the fetches in flight. */
  async timeFetch<R extends { errors?: readonly { extensions?: Record<string, unknown> }[] }>(
    subgraph: string,
    fetch: () => Promise<R>,
  ): Promise<R> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    this.inFlight.inc({ subgraph });
    try {
      const response = await fetch();
      for (const error of response.errors ?? [])
        this.fetchErrors.inc({ subgraph, code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
      this.fetchDuration.observe({ subgraph, outcome: response.errors?.length ? 'error' : 'ok' }, seconds());
      return response;
    } catch (err) {
      this.fetchErrors.inc({ subgraph, code: 'SERVICE_UNAVAILABLE' });
      this.fetchDuration.observe({ subgraph, outcome: 'unavailable' }, seconds());
      throw err;
    } finally {
      this.inFlight.dec({ subgraph });
    }
  }

  /** plugin times parsing and validation and lets planning be timed from the start of execution. */
  plugin<C extends object>(): ApolloServerPlugin<C> {
    const phases = this.phases;
    const timer = (phase: string) => {
      const started = process.hrtime.bigint();
      return async () => phases.observe({ phase }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    return {
      async requestDidStart() {
        return {
          async parsingDidStart() {
            return timer('parse');
          },
          async validationDidStart() {
            return timer('validate');
          },
          async executionDidStart({ contextValue }) {
            planStarts.set(contextValue, process.hrtime.bigint());
          },
        };
      },
    };
  }

  /**
   * planned records the time from the start of execution to the query plan, for the gateway's didResolveQueryPlan hook.
   */
  planned(context: object): void {
    const started = planStarts.get(context);
    if (started !== undefined) this.phases.observe({ phase: 'plan' }, Number(process.hrtime.bigint() - started) / 1e9);
    planStarts.delete(context);
  }

  /**
   * watchPlanCache counts the gateway's query plan cache hits and misses. The
   * store is @apollo/gateway's own (not part of its typed API), so this
   * checks its shape and does nothing if a release changed it.
   */
  watchPlanCache(gateway: object): void {
    const store = (gateway as { queryPlanStore?: { get?: (key: string) => Promise<unknown> } }).queryPlanStore;
    if (!store || typeof store.get !== 'function') return;
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      const plan = await get(key);
      this.planCache.inc({ result: plan ? 'hit' : 'miss' });
      return plan;
    };
  }

  /** planCacheHit counts a plan found among the executor's prepared operations (gateway/execution.ts). */
  planCacheHit(): void {
    this.planCache.inc({ result: 'hit' });
  }

  /** entityLookups counts one fetch's entities found in the entity cache and not (gateway/entity-cache.ts). */
  entityLookups(subgraph: string, hits: number, misses: number): void {
    if (hits > 0) this.entityCache.inc({ subgraph, result: 'hit' }, hits);
    if (misses > 0) this.entityCache.inc({ subgraph, result: 'miss' }, misses);
  }

  /** callerLookups counts one fetch's entities found in the callers' cache and not (gateway/caller-entity-cache.ts). */
  callerLookups(subgraph: string, hits: number, misses: number): void {
    if (hits > 0) this.callerCache.inc({ subgraph, result: 'hit' }, hits);
    if (misses > 0) this.callerCache.inc({ subgraph, result: 'miss' }, misses);
  }

  /** watchCallerCache reports, at each scrape, how many callers' answers the gateway keeps. */
  watchCallerCache(cache: { readonly size: number }): void {
    gauge(
      'fixup_gateway_caller_cache_entries',
      "Callers' answers of their own kept fields (an order's status, per caller and order) the gateway keeps",
      [],
      function () {
        this.set(cache.size);
      },
    );
  }

  /** finished counts a finished request's refusal, if it was one. */
  finished(request: FinishedRequest): void {
    if (request.refusal) return this.refused(request.refusal);
    if (request.outcome === 'ok') return;
    const code = request.errorCodes.find((c) => REFUSAL_CODES.has(c));
    if (code && (request.outcome === 'refused' || request.errorCodes.length === 1)) this.refused(code.toLowerCase());
  }

  /** refused counts one refusal. */
  refused(reason: string): void {
    this.refusals.inc({ reason });
  }

  /** socketOpened counts an accepted subscription socket; the function it returns counts its close. */
  socketOpened(): () => void {
    this.sockets.inc();
    return () => this.sockets.dec();
  }

  /** slowConsumer counts a socket closed for reading too slowly. */
  slowConsumer(): void {
    this.slowConsumers.inc();
  }

  /** subscriptionStarted counts a live subscription to a subgraph; the function it returns counts its end. */
  subscriptionStarted(subgraph: string): () => void {
    this.subscriptions.inc({ subgraph });
    return () => this.subscriptions.dec({ subgraph });
  }

  /** delivered counts one subscription event sent. */
  delivered(subgraph: string): void {
    this.deliveries.inc({ subgraph });
  }

  /** reconnected counts a socket to a subgraph opened again. */
  reconnected(subgraph: string): void {
    this.reconnects.inc({ subgraph });
  }

  /** up records whether a subgraph is ready. */
  up(subgraph: string, ready: boolean): void {
    this.checked = Date.now();
    gauge('fixup_gateway_subgraph_up', '', ['subgraph']).set({ subgraph }, ready ? 1 : 0);
  }

  /** watchSubgraphs gives the check behind fixup_gateway_subgraph_up; it reports each subgraph through up(). */
  watchSubgraphs(check: () => Promise<unknown>): void {
    this.checkSubgraphs = check;
  }
}

const planStarts = new WeakMap<object, bigint>();

/** gatewayMetrics is the gateway process's one GatewayMetrics. */
export const gatewayMetrics = new GatewayMetrics();
