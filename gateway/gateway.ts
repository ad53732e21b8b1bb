import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { context as otelContext, propagation } from '@opentelemetry/api';
import { requestScopePlugin, toClientError, type ScopedContext } from '../foundation/graphql-errors.js';
import { REQUEST_ID_HEADER, type Readiness } from '../foundation/http-server.js';
import { GATEWAY_TOKEN_HEADER, signGatewayToken, type Caller } from '../foundation/identity.js';
import type { TokenSigner } from '../foundation/tokens.js';

/** GatewayContext is the per-request context of the gateway: the verified caller and, once made, the token that states it to subgraphs. */
export interface GatewayContext extends ScopedContext {
  caller: Caller;
  gatewayToken?: Promise<string>;
}

/**
 * SubgraphDataSource sends the gateway's fetches to one subgraph, carrying the
 * gateway's signed statement of the caller (made once per request), the
 * request id and the W3C trace context of the current fetch span, with a timeout.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    timeoutMs: number,
    private readonly signer: TokenSigner,
    private readonly tokenTtlSeconds: number,
  ) {
    const urls = instanceUrls(url);
    let turn = 0;
    super({
      url: urls[0],
      fetcher: (async (_input: string, init: RequestInit) => {
        // Instances are taken in turn; one that refuses the connection is skipped, since the request never reached it.
        const first = turn++ % urls.length;
        for (let i = 0; ; i++) {
          try {
            return await fetch(urls[(first + i) % urls.length]!, { ...init, signal: AbortSignal.timeout(timeoutMs) });
          } catch (err) {
            if (i + 1 >= urls.length || !connectionRefused(err)) throw err;
          }
        }
      }) as never,
    });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const headers = request.http!.headers;
    context.gatewayToken ??= signGatewayToken(this.signer, context.caller, this.tokenTtlSeconds);
    headers.set(GATEWAY_TOKEN_HEADER, await context.gatewayToken);
    headers.set(REQUEST_ID_HEADER, context.scope.requestId);
    const carrier: Record<string, string> = {};
    propagation.inject(otelContext.active(), carrier);
    for (const [key, value] of Object.entries(carrier)) headers.set(key, value);
  }
}

/** instanceUrls lists the instances of one subgraph, given as `url1|url2` (one URL: one instance, or a load balancer). */
export function instanceUrls(url: string): string[] {
  return url.split('|').map((u) => u.trim()).filter(Boolean);
}

function connectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } })?.cause;
  return cause?.code === 'ECONNREFUSED';
}

/** GatewayOptions configures the gateway. */
export interface GatewayOptions {
  supergraphSdl: string;
  /** subgraphUrls overrides the routing URLs that the supergraph names, by subgraph name. */
  subgraphUrls: Record<string, string>;
  subgraphTimeoutMs: number;
  signer: TokenSigner;
  tokenTtlSeconds: number;
}

/** subgraphsOf lists the subgraphs a supergraph names, with their routing URLs. */
export function subgraphsOf(supergraphSdl: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)) out[match[1]!] = match[2]!;
  return out;
}

/**
 * createGateway makes the Apollo Server that fronts the supergraph: the
 * gateway plans each operation and fetches from the subgraphs; errors are
 * mapped once to the contract's codes.
 */
export function createGateway(options: GatewayOptions): { apollo: ApolloServer<GatewayContext>; subgraphs: Record<string, string> } {
  const subgraphs = { ...subgraphsOf(options.supergraphSdl), ...options.subgraphUrls };
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => new SubgraphDataSource(subgraphs[name] ?? url!, options.subgraphTimeoutMs, options.signer, options.tokenTtlSeconds),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: toClientError,
    includeStacktraceInErrorResponses: false,
    // The process's Lifecycle owns signals and stops Apollo in order.
    stopOnTerminationSignals: false,
    plugins: [requestScopePlugin<GatewayContext>(), ApolloServerPluginLandingPageDisabled()],
  });
  return { apollo, subgraphs };
}

/** subgraphReadiness asks every subgraph's /readyz and says which are not ready. */
export async function subgraphReadiness(subgraphs: Record<string, string>, timeoutMs: number): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(subgraphs).map(async ([name, urls]) => {
      try {
        // A subgraph with several instances is ready when one of them is: the others are failed over.
        const answers = await Promise.allSettled(instanceUrls(urls).map((url) => fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(timeoutMs) })));
        const ok = answers.find((a) => a.status === 'fulfilled' && a.value.ok);
        const first = answers.find((a) => a.status === 'fulfilled') ?? answers[0]!;
        if (first.status === 'rejected' && !ok) throw first.reason;
        const res = ((ok ?? first) as PromiseFulfilledResult<Response>).value;
        const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
        if (res.ok) return [name, 'ready'] as const;
        const reasons = Object.entries(body)
          .filter(([k]) => k !== 'status' && k !== 'service')
          .map(([k, v]) => `${k}: ${String(v)}`);
        return [name, `not ready (${reasons.join('; ') || `HTTP ${res.status}`})`] as const;
      } catch (err) {
        return [name, `unreachable (${(err as Error).message})`] as const;
      }
    }),
  );
  const states = Object.fromEntries(entries);
  return { ready: entries.every(([, state]) => state === 'ready'), checks: { subgraphs: states } };
}
