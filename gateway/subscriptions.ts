import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type GraphQLDataSourceProcessOptions, type ServiceMap } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { print, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** SubgraphSocket is a WebSocket to a subgraph without per-message compression, whose zlib state per socket costs more memory than it saves on a local network. */
class SubgraphSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { perMessageDeflate: false });
  }
}
import { signGatewayToken, type Caller } from '../foundation/identity.js';
import type { Logger } from '../foundation/logger.js';
import type { TokenSigner } from '../foundation/tokens.js';
import type { GatewayContext } from './gateway.js';
import { gatewayMetrics } from './metrics.js';

/**
 * EventSource is the primary subgraph's data source while one event of a
 * subscription is shaped: it answers the subscription's own fetch with the
 * event's payload, and hands every other fetch (entities of the same
 * subgraph, say) to the real data source.
 */
class EventSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly primaryOperation: string,
    private readonly payload: ExecutionResult,
    private readonly real: GraphQLDataSource<GatewayContext>,
  ) {}

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (options.request.query === this.primaryOperation) return Promise.resolve({ data: this.payload.data, errors: this.payload.errors } as never);
    return this.real.process(options);
  }
}

/**
 * FederatedSubscriptions runs subscription operations across subgraphs. The
 * query planner turns a subscription into a primary fetch (to the subgraph
 * that owns the root field) and the rest of the plan. The primary fetch is
 * opened as a graphql-ws subscription to that subgraph; for each event, the
 * plan "primary, then rest" is executed with the gateway's own executor,
 * batched like any query, with the primary fetch answered by the event. So a
 * subscription field added to any subgraph later works the same way.
 */
export class FederatedSubscriptions {
  private readonly planner: QueryPlanner;
  private readonly apiSchema: Schema;
  private readonly schema: GraphQLSchema;
  private readonly supergraphSchema: GraphQLSchema;
  private readonly plans = new Map<string, QueryPlan>();

  constructor(
    supergraphSdl: string,
    private readonly services: ServiceMap,
    private readonly subgraphUrls: Record<string, string>,
    private readonly signer: TokenSigner,
    private readonly tokenTtlSeconds: number,
    private readonly logger: Logger,
  ) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.planner = new QueryPlanner(supergraph);
    this.apiSchema = supergraph.apiSchema();
    this.schema = this.apiSchema.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  }

  /** apiGraphQLSchema is the client-facing schema, to validate documents against. */
  get apiGraphQLSchema(): GraphQLSchema {
    return this.schema;
  }

  /** subscribe plans the operation and yields one federated result per event of the primary subscription. */
  async *subscribe(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>, context: GatewayContext): AsyncGenerator<ExecutionResult> {
    const plan = this.plan(document, operationName);
    if (plan.node?.kind !== 'Subscription') throw new Error('not a subscription plan');
    const { primary, rest } = plan.node;
    const eventPlan: QueryPlan = { kind: 'QueryPlan', node: rest ? ({ kind: 'Sequence', nodes: [primary, rest] } as PlanNode) : primary };
    const operationContext = buildOperationContext({ schema: this.schema, operationDocument: document, operationName });
    const client = this.openPrimary(primary, context.caller);
    const ended = gatewayMetrics.subscriptionStarted(primary.serviceName);
    try {
      const primaryVariables = Object.fromEntries((primary.variableUsages ?? []).filter((v) => v in variables).map((v) => [v, variables[v]]));
      for await (const event of client.iterate({ query: primary.operation, variables: primaryVariables, operationName: primary.operationName })) {
        if (event.errors && !event.data) {
          yield { errors: event.errors } as ExecutionResult;
          continue;
        }
        const real = this.services[primary.serviceName]!;
        const services: ServiceMap = { ...this.services, [primary.serviceName]: new EventSource(primary.operation, event as ExecutionResult, real) };
        // A fresh context per event: the token stating the caller to subgraphs lives a minute; a subscription lives longer.
        const eventContext: GatewayContext = { ...context, gatewayToken: undefined };
        const result = await executeQueryPlan(
          eventPlan,
          services,
          { request: { query: '', variables, operationName }, context: eventContext, logger: this.logger, metrics: {} } as never,
          operationContext,
          this.supergraphSchema,
          this.apiSchema,
        );
        gatewayMetrics.delivered(primary.serviceName);
        yield result as ExecutionResult;
      }
    } finally {
      ended();
      await client.dispose();
    }
  }

  /** plan builds (or reuses) the query plan of an operation; planning costs far more than a look-up. */
  private plan(document: DocumentNode, operationName: string | undefined): QueryPlan {
    const key = `${operationName ?? ''}\n${print(document)}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = this.planner.buildQueryPlan(operationFromDocument(this.apiSchema, document, { operationName }));
      if (this.plans.size >= 500) this.plans.delete(this.plans.keys().next().value!);
      this.plans.set(key, plan);
    }
    return plan;
  }

  private openPrimary(primary: FetchNode, caller: Caller) {
    const url = new URL(this.subgraphUrls[primary.serviceName]!);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return createClient({
      url: url.toString(),
      webSocketImpl: SubgraphSocket,
      lazy: true,
      retryAttempts: 0,
      on: { connected: (_socket, _payload, wasRetry) => (wasRetry ? gatewayMetrics.reconnected(primary.serviceName) : undefined) },
      connectionParams: async () => ({ gatewayToken: await signGatewayToken(this.signer, caller, this.tokenTtlSeconds) }),
    });
  }
}
