import { GraphQLError } from 'graphql';
import { Pool } from 'undici';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { propagateTrace } from '../foundation/telemetry/tracing.js';
import type { ScopedContext } from '../foundation/graphql/errors.js';
import { REQUEST_ID_HEADER } from '../foundation/http/server.js';
import { GATEWAY_TOKEN_HEADER } from '../foundation/auth/identity.js';
import type { Caller } from '../contracts/caller.js';
import { SESSION_SEQ_HEADER } from '../contracts/session-events.js';
import { CATALOG_SEQ_HEADER } from '../contracts/catalog-events.js';
import { ORDER_SEQ_HEADER } from '../contracts/order-events.js';
import { FEED_POSITIONS_HEADER } from '../contracts/feeds.js';
import type { FeedPositions } from './feed-positions.js';
import type { InternalTokenCache } from './internal-tokens.js';
import {
  distinctRepresentations,
  entitiesAt,
  requestBody,
  type DataSourceResponse as GatewayGraphQLResponse,
} from './representations.js';

/**
 * FEED_SEQ_HEADERS are the answer headers by which subgraphs name their change feed's sequence after a mutation wrote
 * events (contracts/feeds.ts), by the subgraph that owns the feed: only that subgraph's answer is read for it.
 */
export const FEED_SEQ_HEADERS: Readonly<Record<string, string>> = {
  user: SESSION_SEQ_HEADER,
  catalog: CATALOG_SEQ_HEADER,
  order: ORDER_SEQ_HEADER,
};

/** UNAVAILABLE_MESSAGE is all a client learns of a subgraph that is down or too slow: never its name or address. */
export const UNAVAILABLE_MESSAGE = 'A service this request needs is unavailable or too slow; retry later';

/** FetchContext is what a subgraph fetch needs of the gateway's per-request context. */
export interface FetchContext extends ScopedContext {
  caller: Caller;
  /** deadline is when the whole operation must be answered (performance.now() milliseconds); no fetch outlives it. */
  deadline?: number;
  /**
   * feedSeqs holds, per subgraph with a change feed (FEED_SEQ_HEADERS), the highest sequence its answers named: the
   * gateway answers once its copy of that subgraph's feed reached it (read-your-writes).
   */
  feedSeqs?: Record<string, number>;
}

/** SubgraphFetchOptions configures the fetches to one subgraph. */
export interface SubgraphFetchOptions {
  /** name is the subgraph's name in the supergraph: for logs and the token, never for clients. */
  name: string;
  /** url is the subgraph's routing URL, or several instances' as `url1|url2`, taken in turn. */
  url: string;
  /** timeoutMs bounds one fetch (waiting for the answer's headers, and each pause in its body). */
  timeoutMs: number;
  /** connections bounds the keep-alive connections kept open to the subgraph. */
  connections: number;
  tokens: InternalTokenCache;
  /**
   * feedPositions hears the feed sequences answers name, and gives FEED_POSITIONS_HEADER's value for a subgraph that
   * keeps a copy of other subgraphs' feeds (contracts/feeds.ts, FEED_FOLLOWERS); one for all of a gateway's fetchers.
   */
  feedPositions?: FeedPositions;
}

/**
 * instanceUrls lists the instances of one subgraph, given as `url1|url2` (one URL: one instance, or a load balancer).
 */
export function instanceUrls(url: string): string[] {
  return url
    .split('|')
    .map((u) => u.trim())
    .filter(Boolean);
}

/** unavailable is the error the fields of a subgraph that is down or too slow get. */
function unavailable(): GraphQLError {
  return new GraphQLError(UNAVAILABLE_MESSAGE, { extensions: { code: 'SERVICE_UNAVAILABLE' } });
}

/** CacheHint is what the subgraph's Cache-Control header allows. */
function cacheHintOf(header: string | string[] | undefined): { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(value);
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: maxAge ? Number(maxAge[1]) : 0 };
  if (/(?:^|,)\s*private\b/i.test(value)) hint.scope = 'PRIVATE';
  else if (/(?:^|,)\s*public\b/i.test(value)) hint.scope = 'PUBLIC';
  return hint;
}

/**
 * SubgraphFetcher sends the gateway's fetches to one subgraph over a pool of
 * keep-alive connections (undici's Pool, not the global fetch), with the
 * caller's internal token (cached per caller), the request id and the W3C
 * trace context. The body is parsed once. Timeouts use undici's own timers
 * rather than an AbortSignal per request: one fetch is bounded by timeoutMs
 * and by what is left of the operation's deadline. A subgraph that refuses
 * the connection, fails, or is too slow leaves its fields null with one
 * SERVICE_UNAVAILABLE error; its name and address go to the log only. The
 * session-feed sequence a subgraph's answer names is noted on the request's
 * context; no subgraph header is forwarded to the client.
 */
export class SubgraphFetcher<C extends FetchContext = FetchContext> implements GraphQLDataSource<C> {
  private readonly instances: { pool: Pool; path: string }[];
  private turn = 0;
  /** feedSeqHeader is the header that names this subgraph's feed sequence (FEED_SEQ_HEADERS), if it has a feed. */
  private readonly feedSeqHeader: string | undefined;
  /** followsFeeds: the subgraph keeps a copy of feeds this gateway follows, and is told how far they have come. */
  private readonly followsFeeds: boolean;

  constructor(private readonly options: SubgraphFetchOptions) {
    this.feedSeqHeader = Object.hasOwn(FEED_SEQ_HEADERS, options.name) ? FEED_SEQ_HEADERS[options.name] : undefined;
    this.followsFeeds = options.feedPositions?.follows(options.name) ?? false;
    this.instances = instanceUrls(options.url).map((each) => {
      const url = new URL(each);
      const pool = new Pool(url.origin, {
        connections: options.connections,
        connectTimeout: options.timeoutMs,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        keepAliveTimeout: 4_000,
        pipelining: 1,
      });
      return { pool, path: url.pathname + url.search };
    });
  }

  /**
   * send posts to the instances in turn; an instance that refuses the
   * connection is skipped, since the request never reached it.
   */
  private async send(body: string, headers: Record<string, string>, timeout: number) {
    const first = this.turn++ % this.instances.length;
    for (let i = 0; ; i++) {
      const { pool, path } = this.instances[(first + i) % this.instances.length]!;
      try {
        return await pool.request({
          path,
          method: 'POST',
          headers,
          body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
      } catch (err) {
        if (i + 1 >= this.instances.length || (err as { code?: string }).code !== 'ECONNREFUSED') throw err;
      }
    }
  }

  /** process sends one subgraph operation and gives the subgraph's answer; the gateway merges it. */
  async process(options: GraphQLDataSourceProcessOptions<C>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const context = options.context as C;
    let timeout = this.options.timeoutMs;
    if (context.deadline !== undefined) {
      const left = Math.floor(context.deadline - performance.now());
      if (left <= 0) {
        context.scope?.logger.warn(
          { subgraph: this.options.name },
          'subgraph fetch skipped: the operation is past its deadline',
        );
        throw unavailable();
      }
      if (left < timeout) timeout = left;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      [GATEWAY_TOKEN_HEADER]: await this.options.tokens.tokenFor(context.caller, this.options.name),
      [REQUEST_ID_HEADER]: context.scope.requestId,
    };
    propagateTrace(headers, context.scope.traceparent);
    if (this.followsFeeds) {
      const positions = this.options.feedPositions!.valueFor(this.options.name, context.feedSeqs);
      if (positions !== undefined) headers[FEED_POSITIONS_HEADER] = positions;
    }
    // Each distinct entity representation is sent once (gateway/representations.ts).
    // Only a planned `_entities` fetch declares `[_Any!]!`: a client's own variable of that name is left alone.
    const representations = request.variables?.representations;
    const distinct =
      Array.isArray(representations) && request.query?.includes('$representations:[_Any!]!')
        ? distinctRepresentations(representations)
        : undefined;
    const body = requestBody(request, distinct?.texts);
    let status: number;
    let text: string;
    let cacheControl: string | string[] | undefined;
    try {
      const res = await this.send(body, headers, timeout);
      status = res.statusCode;
      cacheControl = res.headers['cache-control'];
      const header = this.feedSeqHeader;
      const raw = header === undefined ? undefined : res.headers[header];
      if (raw !== undefined) {
        const seq = Number(raw);
        const name = this.options.name;
        if (Number.isSafeInteger(seq) && seq > (context.feedSeqs?.[name] ?? 0)) {
          (context.feedSeqs ??= {})[name] = seq;
          this.options.feedPositions?.noted(name, seq);
        }
      }
      text = await res.body.text();
    } catch (err) {
      context.scope?.logger.warn(
        { subgraph: this.options.name, url: this.options.url, timeoutMs: timeout, err },
        'subgraph fetch failed',
      );
      throw unavailable();
    }
    let parsed: GatewayGraphQLResponse | undefined;
    try {
      parsed = JSON.parse(text) as GatewayGraphQLResponse;
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || (!('data' in parsed) && !Array.isArray(parsed.errors))) {
      context.scope?.logger.warn(
        { subgraph: this.options.name, status, body: text.slice(0, 200) },
        'subgraph answered without a GraphQL response',
      );
      throw status >= 500
        ? unavailable()
        : new Error(`subgraph ${this.options.name} answered HTTP ${status} without a GraphQL response`);
    }
    // A variable that only the subgraph parses (a custom scalar such as DateTime) is refused there with HTTP 400: the
    // client gets BAD_USER_INPUT naming the input, rather than an unexplained failure of the whole fetch.
    const first = status === 400 ? parsed.errors?.[0] : undefined;
    if (first?.extensions?.code === 'BAD_USER_INPUT' && typeof first.message === 'string') {
      const field = /at "([^"]+)"/.exec(first.message)?.[1] ?? /^Variable "\$([^"]+)"/.exec(first.message)?.[1];
      throw new GraphQLError(first.message.slice(0, 500), {
        extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) },
      });
    }
    // As stock @apollo/gateway does, the subgraph's Cache-Control header bounds the answer's cache policy.
    if ('incomingRequestContext' in options) {
      const policy = options.incomingRequestContext.overallCachePolicy as
        { restrict?: (hint: object) => void } | undefined;
      policy?.restrict?.(cacheHintOf(cacheControl));
    }
    if (!distinct || distinct.texts.length === distinct.places.length) return parsed;
    const entities = (parsed.data as { _entities?: unknown } | null | undefined)?._entities;
    if (Array.isArray(entities) && entities.length !== distinct.texts.length)
      throw new Error(`Expected "data._entities" to contain ${distinct.places.length} elements`);
    return entitiesAt(parsed, distinct.places, distinct.texts.length);
  }

  /** close ends the pool's connections (at shutdown). */
  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.pool.close()));
  }
}
