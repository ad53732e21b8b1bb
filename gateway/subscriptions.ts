import { newId } from '../foundation/core/ids.js';
import type { Ending } from '../foundation/core/streams.js';
import {
  buildOperationContext,
  executeQueryPlan,
  type GraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
  type ServiceMap,
} from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import {
  GraphQLError,
  Kind,
  getNamedType,
  isObjectType,
  parse,
  parseType,
  print,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Caller } from '../contracts/caller.js';
import { SHARED_ENTITY_FIELDS, SHARED_ENTITY_REFERENCES } from '../contracts/shared-entities.js';
import type { Logger } from '../foundation/telemetry/logger.js';
import {
  RESUME_SINCE_EXTENSION,
  SUBSCRIBE_STATEMENT_EXTENSION,
  signSocketToken,
  signSubscribeStatement,
} from '../foundation/graphql/subscriptions.js';
import type { TokenSigner } from '../foundation/auth/tokens.js';
import type { GatewayContext } from './gateway.js';
import { callerStatementKey } from './internal-tokens.js';
import { gatewayMetrics } from './metrics.js';
import { entitiesAt, type DataSourceResponse } from './representations.js';
import { selectsOnly } from './entity-cache.js';
import { executePlan, preparedPlan, type EntityCaches, type PreparedPlan } from './execution.js';

/**
 * SubgraphSocket is a WebSocket to a subgraph without per-message compression, whose zlib state per socket costs more
 * memory than it saves on a local network.
 */
class SubgraphSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { perMessageDeflate: false });
  }
}

/** SubscriptionSettings bound the gateway's upstream subscriptions. */
export interface SubscriptionSettings {
  /** poolSize is how many sockets the gateway keeps to each subgraph instance; client subscriptions share them. */
  poolSize: number;
  /**
   * resumeTimeoutMs is how long a subscription whose subgraph instance went away is retried before the client gets
   * SERVICE_UNAVAILABLE.
   */
  resumeTimeoutMs: number;
  /**
   * maxQueuedEvents is how many events may wait for one slow client subscription before its socket is closed (4008).
   */
  maxQueuedEvents: number;
  /** tokenTtlSeconds is the lifetime of each statement of a caller to a subgraph. */
  tokenTtlSeconds: number;
  /**
   * batchMs is how long a follow-up entity fetch of an event waits for others (of the same caller, or of any caller for
   * shared fields) to share one `_entities` call (0: no batching).
   */
  batchMs: number;
  /** batchMaxEntities bounds the representations of one shared `_entities` call; a full batch is sent at once. */
  batchMaxEntities: number;
}

/** SubscribeOptions is what the client socket tells one subscription. */
export interface SubscribeOptions {
  /** slowConsumer is called when more events wait for this subscription than the bound. */
  slowConsumer: () => void;
  /**
   * ending ends the subscription, upstream too, even while it waits for an event (the generator's own return() waits
   * for the next one); see endingAtOnce.
   */
  ending?: Ending;
}

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
    if (options.request.query === this.primaryOperation)
      return Promise.resolve({ data: this.payload.data, errors: this.payload.errors } as never);
    return this.real.process(options);
  }
}

/** BatchPart is one event's follow-up fetch waiting in a batch. */
interface BatchPart {
  options: GraphQLDataSourceProcessOptions<GatewayContext>;
  representations: unknown[];
  resolve: (response: DataSourceResponse) => void;
  reject: (err: unknown) => void;
}

/**
 * Batch is the follow-up fetches of one caller, operation and variables (but the representations) waiting to be sent.
 */
interface Batch {
  parts: BatchPart[];
  entities: number;
  timer: NodeJS.Timeout;
}

/**
 * EntityBatcher is a subgraph's data source for the follow-up fetches of
 * subscription events (the sender from user, the order's status from order):
 * `_entities` fetches that arrive within `windowMs` of each other with the
 * same operation and the same variables but the representations are sent as
 * one fetch, whose representations are the union (each distinct one sent once),
 * and each event gets its own slice of the answer. A fetch is merged with
 * fetches of other callers only when it selects nothing but the subgraph's
 * shared fields (contracts/shared-entities.ts: fields every caller
 * gets the same answer for, as the sender's name); any other fetch is merged
 * only with fetches of the same caller, because what a caller may see of an
 * entity is the subgraph's rule (an order reached by reference obeys the
 * caller's visibility, a user's email its owner's), which the gateway cannot
 * read. A merged fetch of shared fields goes with its first caller's
 * statement.
 */
export class EntityBatcher implements GraphQLDataSource<GatewayContext> {
  private readonly pending = new Map<string, Batch>();
  /** sharedQueries remembers, per fetch operation, whether it selects shared fields only (plans are few). */
  private readonly sharedQueries = new Map<string, boolean>();

  constructor(
    private readonly real: GraphQLDataSource<GatewayContext>,
    private readonly windowMs: number,
    private readonly maxEntities: number,
    private readonly sharedFields: Readonly<Record<string, readonly string[]>> = {},
    private readonly sharedReferences: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
  ) {}

  private selectsSharedOnly(query: string): boolean {
    let known = this.sharedQueries.get(query);
    if (known === undefined) {
      known = selectsOnly(query, this.sharedFields, this.sharedReferences);
      if (this.sharedQueries.size >= 1000) this.sharedQueries.clear();
      this.sharedQueries.set(query, known);
    }
    return known;
  }

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<DataSourceResponse> {
    const variables = options.request.variables ?? {};
    const representations = variables.representations as unknown;
    if (this.windowMs <= 0 || !Array.isArray(representations) || !options.context?.caller)
      return this.real.process(options);
    const rest = Object.entries(variables).filter(([name]) => name !== 'representations');
    const query = options.request.query ?? '';
    const who = this.selectsSharedOnly(query) ? 'every caller' : callerStatementKey(options.context.caller);
    const key = `${who}\n${options.request.operationName ?? ''}\n${query}\n${JSON.stringify(rest)}`;
    return new Promise<DataSourceResponse>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        const made: Batch = { parts: [], entities: 0, timer: setTimeout(() => this.flush(key, made), this.windowMs) };
        this.pending.set(key, (batch = made));
      }
      batch.parts.push({ options, representations, resolve, reject });
      batch.entities += representations.length;
      if (batch.entities >= this.maxEntities) this.flush(key, batch);
    });
  }

  private flush(key: string, batch: Batch): void {
    clearTimeout(batch.timer);
    if (this.pending.get(key) === batch) this.pending.delete(key);
    const { parts } = batch;
    if (parts.length === 1) {
      const only = parts[0]!;
      this.real.process(only.options).then(only.resolve, only.reject);
      return;
    }
    // One list of every part's representations (the fetcher sends each distinct one once); each part remembers where
    // its own ones went.
    const merged: unknown[] = [];
    const places = parts.map((part) => part.representations.map((representation) => merged.push(representation) - 1));
    const first = parts[0]!.options;
    this.real
      .process({
        ...first,
        request: { ...first.request, variables: { ...first.request.variables, representations: merged } },
      })
      .then(
        (response) => parts.forEach((part, i) => part.resolve(entitiesAt(response, places[i]!))),
        (err: unknown) => parts.forEach((part) => part.reject(err)),
      );
  }
}

/** Upstream is one pooled graphql-ws connection to one subgraph instance. */
interface Upstream {
  url: string;
  client: Client;
  active: number;
}

/**
 * SubgraphSockets is the gateway's pool of graphql-ws connections to the
 * instances of one subgraph: `poolSize` per instance, each opened with a
 * token naming this gateway process and the subgraph, and each carrying many
 * client subscriptions (every one with its own caller's statement). An
 * instance that dropped a socket is avoided for a moment.
 */
class SubgraphSockets {
  private readonly upstreams: Upstream[] = [];
  private readonly downUntil = new Map<string, number>();
  private turn = 0;

  constructor(
    readonly subgraph: string,
    private readonly urls: string[],
    poolSize: number,
    signer: TokenSigner,
    gatewayId: string,
    ttlSeconds: number,
    private readonly logger: Logger,
  ) {
    for (const url of urls) {
      const ws = new URL(url);
      ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
      for (let i = 0; i < poolSize; i++) {
        this.upstreams.push({
          url,
          active: 0,
          client: createClient({
            url: ws.toString(),
            webSocketImpl: SubgraphSocket,
            // Connected while it carries a subscription; a lost connection is the subscriptions' to resume, elsewhere
            // if need be.
            lazy: true,
            retryAttempts: 0,
            connectionParams: async () => ({
              gatewayToken: await signSocketToken(signer, { gatewayId, subgraph, ttlSeconds }),
            }),
            on: { connected: () => logger.debug({ subgraph, url }, 'subgraph socket connected') },
          }),
        });
      }
    }
  }

  /** acquire picks the least busy socket of an instance that is up (any instance when none is known up). */
  acquire(): Upstream {
    const now = Date.now();
    const up = this.urls.filter((u) => (this.downUntil.get(u) ?? 0) <= now);
    const urls = up.length > 0 ? up : [this.urls[this.turn++ % this.urls.length]!];
    let best: Upstream | undefined;
    for (const upstream of this.upstreams) {
      if (urls.includes(upstream.url) && (!best || upstream.active < best.active)) best = upstream;
    }
    return best!;
  }

  /** lost avoids an instance for a moment after it dropped a socket (logged once per outage, not per subscription). */
  lost(url: string, err: unknown, ms = 1000): void {
    const now = Date.now();
    if ((this.downUntil.get(url) ?? 0) <= now) {
      const code = (err as { code?: unknown })?.code;
      this.logger.warn(
        { subgraph: this.subgraph, url, code, reason: (err as Error)?.message },
        'subgraph socket lost; resuming its subscriptions',
      );
    }
    this.downUntil.set(url, now + ms);
  }

  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.client.dispose()));
  }
}

/**
 * SentOnce is a value that is written into one message and then let go. graphql-ws's client keeps a subscription's
 * payload for the subscription's life, but sends it once: its sockets here do not retry (retryAttempts 0), and a lost
 * subscription is resumed by the gateway with a new statement. (graphql-ws still resubscribes by itself after a close
 * with 1000 while subscriptions run, which no subgraph sends; that resubscription, without a statement, is refused.)
 * The statement, about 540 bytes, is good for one use only: kept, it was about 0.6 KB per subscription
 * (docs/performance.md, lever 46).
 */
export class SentOnce {
  constructor(private value: string | undefined) {}

  toJSON(): string | undefined {
    const value = this.value;
    this.value = undefined;
    return value;
  }
}

/** EventQueue hands the events of one upstream subscription to the loop that shapes and sends them, in order. */
class EventQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift()!;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * Resumable is how a primary subscription is resumed on another instance:
 * the root field's `after` argument (through a variable) and the `id` of
 * each event, which the gateway selects when the client did not.
 */
interface Resumable {
  /** query is the primary operation as sent upstream: the planner's, with `after` as a variable and `id` selected. */
  query: string;
  afterVariable: string;
  /** afterLiteral is the client's own `after` when written inline. */
  afterLiteral: string | undefined;
  responseKey: string;
  idKey: string;
}

/** PreparedSubscription is a planned subscription operation, ready to run for many clients. */
interface PreparedSubscription {
  primary: FetchNode;
  eventPlan: QueryPlan;
  resumable: Resumable | undefined;
  /** operationContext is what executeQueryPlan needs of the client's operation, made once per document. */
  operationContext: ReturnType<typeof buildOperationContext>;
  /**
   * runnable is the event plan as gateway/execution.ts runs it (its answer's shaper made once, not an operation per
   * event); absent when that executor leaves the operation to @apollo/gateway's.
   */
  runnable: PreparedPlan | undefined;
}

/**
 * FederatedSubscriptions runs subscription operations across subgraphs. The
 * query planner turns a subscription into a primary fetch (to the subgraph
 * that owns the root field) and the rest of the plan. The primary fetch runs
 * as a graphql-ws subscription over one of the gateway's few shared sockets
 * to that subgraph, carrying its own caller's signed statement; for each
 * event, the plan "primary, then rest" is executed with the gateway's own
 * executor, batched like any query, with the primary fetch answered by the
 * event. When the instance serving it goes away, the subscription is resumed
 * on another instance (or the same one when it returns) with `after` set to
 * the last event received, so the client sees no gap, no duplicate and no
 * error.
 */
export class FederatedSubscriptions {
  private readonly planner: QueryPlanner;
  private readonly apiSchema: Schema;
  private readonly schema: GraphQLSchema;
  private readonly supergraphSchema: GraphQLSchema;
  private readonly prepared = new Map<string, PreparedSubscription>();
  /** preparedByDocument finds a prepared subscription by its document object (and operation name), weakly held. */
  private readonly preparedByDocument = new WeakMap<DocumentNode, Map<string | undefined, PreparedSubscription>>();
  private readonly sockets = new Map<string, SubgraphSockets>();
  /** batched are the data sources of events' follow-up fetches: the real ones behind an EntityBatcher each. */
  private readonly batched: ServiceMap;
  /** gatewayId names this gateway process to subgraphs: a socket it opened takes its statements only. */
  readonly gatewayId = newId();

  constructor(
    supergraphSdl: string,
    private readonly services: ServiceMap,
    private readonly subgraphUrls: Record<string, string[]>,
    private readonly signer: TokenSigner,
    private readonly settings: SubscriptionSettings,
    private readonly logger: Logger,
    private readonly entityCaches: EntityCaches = {},
  ) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.planner = new QueryPlanner(supergraph);
    this.apiSchema = supergraph.apiSchema();
    this.schema = this.apiSchema.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.batched = Object.fromEntries(
      Object.entries(services).map(([name, source]) => [
        name,
        new EntityBatcher(
          source as GraphQLDataSource<GatewayContext>,
          settings.batchMs,
          settings.batchMaxEntities,
          SHARED_ENTITY_FIELDS[name],
          SHARED_ENTITY_REFERENCES[name],
        ),
      ]),
    );
  }

  /** apiGraphQLSchema is the client-facing schema, to validate documents against. */
  get apiGraphQLSchema(): GraphQLSchema {
    return this.schema;
  }

  /** close ends every upstream socket. */
  async close(): Promise<void> {
    await Promise.all([...this.sockets.values()].map((s) => s.close()));
  }

  /** subscribe plans the operation and yields one federated result per event of the primary subscription. */
  async *subscribe(
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown>,
    context: GatewayContext,
    options: SubscribeOptions,
  ): AsyncGenerator<ExecutionResult> {
    const { primary, eventPlan, resumable, operationContext, runnable } = this.prepare(document, operationName);
    const primaryVariables = Object.fromEntries(
      (primary.variableUsages ?? []).filter((v) => v in variables).map((v) => [v, variables[v]]),
    );
    const queue = new EventQueue<ExecutionResult>();
    const stream = new UpstreamStream(
      this.socketsOf(primary.serviceName),
      this.signer,
      this.gatewayId,
      this.settings,
      context.caller,
      primary,
      primaryVariables,
      resumable,
      queue,
      () => {
        if (queue.length > this.settings.maxQueuedEvents) options.slowConsumer();
      },
    );
    stream.open();
    options.ending?.onEnd(() => stream.stop());
    const real = this.batched[primary.serviceName]!;
    const ended = gatewayMetrics.subscriptionStarted(primary.serviceName);
    try {
      for await (const event of queue.drain()) {
        if (event.errors && !event.data) {
          yield { errors: event.errors } as ExecutionResult;
          continue;
        }
        const services: ServiceMap = {
          ...this.batched,
          [primary.serviceName]: new EventSource(primary.operation, event, real),
        };
        // Follow-up fetches take the caller's token for each subgraph from the fetchers' per-subgraph cache.
        const eventContext: GatewayContext = { ...context };
        const requestContext = {
          request: { query: '', variables, operationName },
          context: eventContext,
          logger: this.logger,
          metrics: {},
        } as never;
        const result = runnable
          ? await executePlan(runnable, services, requestContext, this.supergraphSchema, this.entityCaches)
          : await executeQueryPlan(
              eventPlan,
              services,
              requestContext,
              operationContext,
              this.supergraphSchema,
              this.apiSchema,
            );
        gatewayMetrics.delivered(primary.serviceName);
        yield result as ExecutionResult;
      }
    } finally {
      options.ending?.onEnd(undefined);
      ended();
      stream.stop();
    }
  }

  private socketsOf(subgraph: string): SubgraphSockets {
    let sockets = this.sockets.get(subgraph);
    if (!sockets) {
      const urls = this.subgraphUrls[subgraph];
      if (!urls || urls.length === 0) throw new Error(`no URL for subgraph ${subgraph}`);
      sockets = new SubgraphSockets(
        subgraph,
        urls,
        this.settings.poolSize,
        this.signer,
        this.gatewayId,
        this.settings.tokenTtlSeconds,
        this.logger,
      );
      this.sockets.set(subgraph, sockets);
    }
    return sockets;
  }

  /**
   * prepare builds (or reuses) the plan of an operation and its resumable upstream query; planning costs far more than
   * a look-up.
   */
  private prepare(document: DocumentNode, operationName: string | undefined): PreparedSubscription {
    // The gateway's checker gives one document object per distinct text, so most subscriptions are found by identity
    // without printing their document.
    const byName = this.preparedByDocument.get(document);
    const known = byName?.get(operationName);
    if (known) return known;
    const key = `${operationName ?? ''}\n${print(document)}`;
    let prepared = this.prepared.get(key);
    if (!prepared) {
      const operation = operationFromDocument(this.apiSchema, document, { operationName });
      const plan = this.planner.buildQueryPlan(operation);
      if (plan.node?.kind !== 'Subscription') throw new Error('not a subscription plan');
      const { primary, rest } = plan.node;
      const eventPlan: QueryPlan = {
        kind: 'QueryPlan',
        node: rest ? ({ kind: 'Sequence', nodes: [primary, rest] } as PlanNode) : primary,
      };
      prepared = {
        primary,
        eventPlan,
        resumable: resumableQuery(primary.operation, this.schema),
        operationContext: buildOperationContext({ schema: this.schema, operationDocument: document, operationName }),
        runnable: preparedPlan(eventPlan, operation),
      };
      if (this.prepared.size >= 500) this.prepared.delete(this.prepared.keys().next().value!);
      this.prepared.set(key, prepared);
    }
    if (byName) byName.set(operationName, prepared);
    else this.preparedByDocument.set(document, new Map([[operationName, prepared]]));
    return prepared;
  }
}

/**
 * resumableQuery rewrites a primary subscription so that it can be resumed:
 * when its root field takes `after` and returns an object with an `id`, the
 * `after` argument becomes a variable and `id` is selected. Undefined when
 * the field cannot be resumed (it is then simply resubscribed).
 */
export function resumableQuery(operation: string, schema: GraphQLSchema): Resumable | undefined {
  const document = parse(operation);
  const definition = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const root = definition?.selectionSet.selections.find(
    (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== '__typename',
  );
  const field = root && schema.getSubscriptionType()?.getFields()[root.name.value];
  const afterArg = field?.args.find((a) => a.name === 'after');
  const returned = field && getNamedType(field.type);
  if (!definition || !root || !afterArg || !returned || !isObjectType(returned) || !returned.getFields().id)
    return undefined;
  const given = root.arguments?.find((a) => a.name.value === 'after');
  let afterVariable = given?.value.kind === Kind.VARIABLE ? given.value.name.value : '__resumeAfter';
  const afterLiteral = given && given.value.kind === Kind.STRING ? given.value.value : undefined;
  const selections = root.selectionSet?.selections ?? [];
  const plainId = selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'id' && !s.alias);
  const idKey = plainId ? 'id' : '__resumeId';
  const newRoot: FieldNode = {
    ...root,
    arguments:
      given?.value.kind === Kind.VARIABLE
        ? root.arguments
        : [
            ...(root.arguments ?? []).filter((a) => a.name.value !== 'after'),
            {
              kind: Kind.ARGUMENT,
              name: { kind: Kind.NAME, value: 'after' },
              value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: afterVariable } },
            },
          ],
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: plainId
        ? selections
        : [
            ...selections,
            { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: idKey }, name: { kind: Kind.NAME, value: 'id' } },
          ],
    },
  };
  const variableDefinitions = [...(definition.variableDefinitions ?? [])];
  if (given?.value.kind !== Kind.VARIABLE) {
    afterVariable = '__resumeAfter';
    variableDefinitions.push({
      kind: Kind.VARIABLE_DEFINITION,
      variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: afterVariable } },
      type: parseType(afterArg.type.toString().replace(/!$/, '')),
    });
  }
  const rewritten: OperationDefinitionNode = {
    ...definition,
    variableDefinitions,
    selectionSet: {
      ...definition.selectionSet,
      selections: definition.selectionSet.selections.map((s) => (s === root ? newRoot : s)),
    },
  };
  return {
    query: print({ ...document, definitions: [rewritten] }),
    afterVariable,
    afterLiteral,
    responseKey: root.alias?.value ?? root.name.value,
    idKey,
  };
}

/**
 * UpstreamStream is one client subscription's primary fetch: subscribed over
 * a pooled socket with its caller's statement, and resumed after the last
 * event received when the socket is lost, until resumeTimeoutMs passes.
 */
class UpstreamStream {
  private generation = 0;
  private stopped = false;
  private lastId: string | undefined;
  private failures = 0;
  private downSince: number | undefined;
  private dispose: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** startedAt is when the client subscribed: a resumption before any event asks for what was committed since. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly sockets: SubgraphSockets,
    private readonly signer: TokenSigner,
    private readonly gatewayId: string,
    private readonly settings: SubscriptionSettings,
    private readonly caller: Caller,
    private readonly primary: FetchNode,
    private readonly variables: Record<string, unknown>,
    private readonly resumable: Resumable | undefined,
    private readonly queue: EventQueue<ExecutionResult>,
    private readonly onEvent: () => void,
  ) {}

  open(): void {
    void this.subscribe().catch((err) => this.lost(undefined, err));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.dispose?.();
    this.queue.end();
  }

  private async subscribe(): Promise<void> {
    const generation = ++this.generation;
    const statement = await signSubscribeStatement(this.signer, this.caller, {
      gatewayId: this.gatewayId,
      subgraph: this.sockets.subgraph,
      ttlSeconds: this.settings.tokenTtlSeconds,
    });
    if (this.stopped || generation !== this.generation) return;
    const upstream = this.sockets.acquire();
    const variables = { ...this.variables };
    const resumable = this.resumable;
    const extensions: Record<string, unknown> = { [SUBSCRIBE_STATEMENT_EXTENSION]: new SentOnce(statement) };
    if (resumable) {
      variables[resumable.afterVariable] =
        this.lastId ?? variables[resumable.afterVariable] ?? resumable.afterLiteral ?? null;
      // Resumed before any event, with no `after` of the client's: what was committed since the subscription first
      // started.
      if (generation > 1 && variables[resumable.afterVariable] === null)
        extensions[RESUME_SINCE_EXTENSION] = this.startedAt;
    }
    const openedAt = Date.now();
    let released = false;
    const release = () => {
      if (!released) upstream.active--;
      released = true;
    };
    upstream.active++;
    this.dispose = upstream.client.subscribe<Record<string, unknown>>(
      {
        query: resumable?.query ?? this.primary.operation,
        operationName: this.primary.operationName ?? undefined,
        variables,
        extensions,
      },
      {
        next: (value) => {
          if (generation !== this.generation || this.stopped) return;
          if (resumable && value.data) {
            const id = (value.data[resumable.responseKey] as Record<string, unknown> | null)?.[resumable.idKey];
            if (typeof id === 'string') this.lastId = id;
          }
          this.queue.push(value as ExecutionResult);
          this.onEvent();
        },
        error: (err) => {
          release();
          if (generation !== this.generation || this.stopped) return;
          if (Array.isArray(err)) {
            // The subgraph refused the operation itself: that is the client's answer.
            this.queue.push({ errors: err });
            this.queue.end();
            return;
          }
          if (Date.now() - openedAt > 2000) {
            // It had been running: a new outage, with a fresh time budget.
            this.downSince = undefined;
            this.failures = 0;
          }
          this.lost(upstream.url, err);
        },
        complete: () => {
          release();
          if (generation === this.generation && !this.stopped) this.queue.end();
        },
      },
    );
  }

  /**
   * lost resubscribes after the socket carrying this subscription went away: at once, then backing off, until
   * resumeTimeoutMs.
   */
  private lost(url: string | undefined, err: unknown): void {
    if (url) this.sockets.lost(url, err);
    if (this.stopped) return;
    gatewayMetrics.reconnected(this.sockets.subgraph);
    this.downSince ??= Date.now();
    if (Date.now() - this.downSince > this.settings.resumeTimeoutMs) {
      this.queue.push({
        errors: [
          new GraphQLError(`The ${this.sockets.subgraph} service is unavailable; resubscribe with after later`, {
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          }),
        ],
      });
      this.queue.end();
      return;
    }
    const delay = this.failures === 0 ? 0 : Math.min(2000, 100 * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.failures++;
    this.timer = setTimeout(() => this.open(), delay);
  }
}
