import { createHash } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import {
  buildOperationContext,
  type ApolloGateway,
  type GraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from '@apollo/gateway';
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { generateHydratedPaths } from '@apollo/gateway/dist/executeQueryPlan.js';
import { deepMerge } from '@apollo/gateway/dist/utilities/deepMerge.js';
import { errorCodeDef, ERRORS, operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import {
  evaluateCondition,
  type FetchNode,
  type PlanNode,
  type QueryPlan,
  type QueryPlanSelectionNode,
} from '@apollo/query-planner';
import {
  getVariableValues,
  GraphQLError,
  Kind,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { Caller } from '../contracts/caller.js';
import type { SharedEntityCache, Ticket } from './entity-cache.js';
import type { CallerEntityCache, CallerTicket } from './caller-entity-cache.js';
import { callerStatementKey } from './internal-tokens.js';
import { shaperFor, type Shaper } from './result-shaping.js';

type Load = ApolloGateway['load'];
type Executor = Awaited<ReturnType<Load>>['executor'];
export type RequestContext = Parameters<Executor>[0];
export type ExecutionResult = Awaited<ReturnType<Executor>>;
type OperationContext = ReturnType<typeof buildOperationContext>;
type ResponsePath = (string | number)[];

/** GatewayInternals is the part of @apollo/gateway's state the executor reads (checked, not assumed). */
interface GatewayInternals {
  apiSchema?: Schema;
  supergraphSchema?: GraphQLSchema;
  queryPlanStore?: { get(key: string): Promise<QueryPlan | undefined> };
}

/** Prepared is what one planned operation needs on every request, made on its first request after planning. */
interface Prepared extends PreparedPlan {
  schema: GraphQLSchema;
  operationContext: OperationContext;
}

/** ExecutionHooks are what the gateway measures of an execution. */
export interface ExecutionHooks {
  /** planned: the request's query plan is known (@apollo/gateway's didResolveQueryPlan). */
  planned(requestContext: RequestContext): void;
  /** planCacheHit: a plan was found among the prepared operations, without asking the plan store. */
  planCacheHit(): void;
}

/**
 * PlanExecutor runs query plans for @apollo/gateway: the gateway still validates, plans and keeps plans, and this runs
 * them. Per planned operation it keeps what every request would otherwise rebuild (the operation's context, the
 * operation as federation-internals reads it, a shaper of its answer: gateway/result-shaping.ts), found by the parsed
 * document Apollo Server keeps per query; a fetch makes each entity object's representation once and merges each object
 * once (the fetcher sends each distinct representation once: gateway/representations.ts), and the walk of the answer
 * to the entities at a plan path allocates one list, not one per level and element. What it does not
 * do is left to @apollo/gateway's own executor, with the same answer: a request whose spans are recorded (so traces
 * keep @apollo/gateway's plan, fetch and post-processing spans), Apollo usage traces, a plan with @defer or a
 * subscription, an operation with introspection fields, a request asking for its query plan, and a plan not yet made
 * (the stock executor makes and stores it; the next request runs here).
 */
export class PlanExecutor {
  private readonly prepared = new WeakMap<DocumentNode, Map<string, Prepared | false>>();

  constructor(
    private readonly gateway: ApolloGateway,
    private readonly services: Record<string, GraphQLDataSource>,
    private readonly hooks: ExecutionHooks,
    private readonly caches: EntityCaches = {},
  ) {}

  /** wrap is the gateway as Apollo Server takes it: its load gives this executor in place of the gateway's own. */
  wrap(): Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'> {
    const gateway = this.gateway;
    return {
      load: async (options) => {
        const loaded = await gateway.load(options);
        const stock = loaded.executor;
        return { ...loaded, executor: (requestContext) => this.execute(requestContext, stock) };
      },
      onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
      stop: () => gateway.stop(),
    };
  }

  private async execute(requestContext: RequestContext, stock: Executor): Promise<ExecutionResult> {
    if (requestContext.metrics?.captureTraces || trace.getActiveSpan()?.isRecording()) return stock(requestContext);
    const prepared = await this.preparedFor(requestContext);
    if (!prepared || requestContext.request.http?.headers.get('Apollo-Query-Plan-Experimental'))
      return stock(requestContext);
    const { operationContext } = prepared;
    const definitions = operationContext.operation.variableDefinitions;
    if (definitions?.length) {
      const { errors } = getVariableValues(
        operationContext.schema,
        definitions,
        requestContext.request.variables ?? {},
      );
      if (errors) return { errors };
    }
    this.hooks.planned(requestContext);
    return executePlan(prepared, this.services, requestContext, this.internals.supergraphSchema!, this.caches);
  }

  private get internals(): GatewayInternals {
    return this.gateway as unknown as GatewayInternals;
  }

  /**
   * preparedFor finds the request's prepared operation: by the parsed document (Apollo Server keeps one per query) and
   * operation name; else from the gateway's plan store, keyed as its executor keys it; else nothing (the stock
   * executor plans it).
   */
  private async preparedFor(requestContext: RequestContext): Promise<Prepared | undefined> {
    const { document, request, queryHash } = requestContext;
    const schema = this.gateway.schema;
    const { apiSchema, supergraphSchema, queryPlanStore } = this.internals;
    if (!schema || !apiSchema || !supergraphSchema || !queryPlanStore) return undefined;
    const name = request.operationName ?? '';
    let byName = this.prepared.get(document);
    const known = byName?.get(name);
    if (known === false) return undefined;
    if (known && known.schema === schema) {
      this.hooks.planCacheHit();
      return known;
    }
    const key = request.operationName
      ? createHash('sha256').update(queryHash).update(request.operationName).digest('hex')
      : queryHash;
    const plan = await queryPlanStore.get(key);
    if (!plan) return undefined;
    const operationContext = buildOperationContext({
      schema,
      operationDocument: document,
      operationName: request.operationName,
    });
    const operation = operationFromDocument(
      apiSchema,
      { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] },
      { validate: false },
    );
    const runnable = preparedPlan(plan, operation);
    const made: Prepared | false = runnable ? { ...runnable, schema, operationContext } : false;
    if (!byName) this.prepared.set(document, (byName = new Map()));
    byName.set(name, made);
    return made || undefined;
  }
}

/** PreparedPlan is what running a plan needs, made once per planned operation. */
export interface PreparedPlan {
  plan: QueryPlan;
  /** operation is the operation as federation-internals reads it (its variables' defaults, for conditions). */
  operation: Operation;
  shaper: Shaper;
}

/**
 * executePlan runs a prepared plan (preparedPlan: no @defer, no introspection): its fetches through the given
 * data sources, its answer shaped as @apollo/gateway shapes it, with the subgraphs' errors and, when there are none,
 * the shaping's errors as `extensions.valueCompletion`. With a cache, fetches of shared entity fields ask only for the
 * entities it does not keep (gateway/entity-cache.ts).
 */
export async function executePlan(
  prepared: PreparedPlan,
  services: Record<string, GraphQLDataSource>,
  requestContext: RequestContext,
  supergraphSchema: GraphQLSchema,
  caches: EntityCaches = {},
): Promise<ExecutionResult> {
  const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const run: Run = {
    requestContext,
    operation: prepared.operation,
    services,
    schema: supergraphSchema,
    root: data,
    errors: [],
    caches,
  };
  if (prepared.plan.node) await runNode(run, prepared.plan.node as PlanNode, [], data);
  let shaped: ReturnType<Shaper['shape']>;
  try {
    shaped = prepared.shaper.shape(data, requestContext.request.variables);
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    return { errors: [new GraphQLError((error as Error).message, { originalError: error as Error })] };
  }
  if (run.errors.length === 0 && shaped.errors.length > 0)
    return { extensions: { valueCompletion: shaped.errors }, data: shaped.data };
  return run.errors.length === 0 ? { data: shaped.data } : { errors: run.errors, data: shaped.data };
}

/**
 * preparedPlan makes what running a plan needs, or nothing when the plan or operation is left to @apollo/gateway's
 * executor (@defer, a subscription node, introspection fields, a response name `__proto__`).
 */
export function preparedPlan(plan: QueryPlan, operation: Operation): PreparedPlan | undefined {
  if (hasUnsupportedNode(plan.node)) return undefined;
  const shaper = shaperFor(operation);
  return 'unsupported' in shaper ? undefined : { plan, operation, shaper };
}

/** hasUnsupportedNode: a plan node this executor leaves to @apollo/gateway's (@defer, subscriptions). */
function hasUnsupportedNode(node: PlanNode | undefined | { kind: string }): boolean {
  if (!node) return false;
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      return (node as { nodes: PlanNode[] }).nodes.some(hasUnsupportedNode);
    case 'Flatten':
      return hasUnsupportedNode((node as { node: PlanNode }).node);
    case 'Condition': {
      const c = node as { ifClause?: PlanNode; elseClause?: PlanNode };
      return hasUnsupportedNode(c.ifClause) || hasUnsupportedNode(c.elseClause);
    }
    case 'Fetch':
      return false;
    default:
      return true;
  }
}

/** Run is one request's execution. */
interface Run {
  requestContext: RequestContext;
  operation: Operation;
  services: Record<string, GraphQLDataSource>;
  /** schema is the supergraph's, for the plan's rewrites and type conditions. */
  schema: GraphQLSchema;
  /** root is the data gathered so far, from the top: errors about entities are placed from it. */
  root: Record<string, unknown>;
  errors: GraphQLError[];
  caches: EntityCaches;
}

/**
 * EntityCaches are what may answer a fetch's entities without asking their subgraph: shared fields, the same for every
 * caller (gateway/entity-cache.ts), and fields kept per caller (gateway/caller-entity-cache.ts).
 */
export interface EntityCaches {
  shared?: SharedEntityCache;
  callers?: CallerEntityCache;
}

/** Keeper answers one fetch's entities from a cache, and keeps the answers of the others. */
interface Keeper {
  lookup(representations: readonly Record<string, unknown>[]): (Record<string, unknown> | undefined)[];
  ticket(): Ticket | CallerTicket;
  keep(ticket: unknown, representations: readonly Record<string, unknown>[], entities: readonly unknown[]): void;
}

/**
 * keeperOf finds the cache that may answer a fetch: the shared one for a fetch of shared fields only, else the
 * callers' one for a fetch of a signed-in caller's own kept fields; undefined for any other fetch, and for every fetch
 * of a mutation, whose own change may not have reached this gateway's copy of the feed yet when a later fetch of the
 * same plan reads it (the gateway waits for its copy only before it answers).
 */
function keeperOf(run: Run, subgraph: string, query: string): Keeper | undefined {
  if (run.operation.rootKind === 'mutation') return undefined;
  const { shared, callers } = run.caches;
  const kept = shared?.fetchOf(subgraph, query);
  if (kept)
    return {
      lookup: (representations) => shared!.lookup(kept, representations),
      ticket: () => shared!.ticket(kept),
      keep: (ticket, representations, entities) => shared!.keep(kept, ticket as Ticket, representations, entities),
    };
  const own = callers?.fetchOf(subgraph, query);
  const caller = own && (run.requestContext.context as { caller?: Caller }).caller;
  if (!own || !caller?.viewer) return undefined;
  const of = { key: callerStatementKey(caller), userId: caller.viewer.id };
  return {
    lookup: (representations) => callers!.lookup(own, of, representations),
    ticket: () => callers!.ticket(own),
    keep: (ticket, representations, entities) =>
      callers!.keep(own, ticket as CallerTicket, of, representations, entities),
  };
}

async function runNode(run: Run, node: PlanNode, path: ResponsePath, data: unknown): Promise<void> {
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await runNode(run, child, path, data);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => runNode(run, child, path, data)));
      return;
    case 'Flatten': {
      const at = valuesAt(data, node.path);
      if (at === undefined || at === null) return;
      await runNode(run, node.node, path.concat(node.path), at);
      return;
    }
    case 'Fetch':
      try {
        await runFetch(run, node, path, data);
      } catch (error) {
        run.errors.push(error as GraphQLError);
      }
      return;
    case 'Condition': {
      const picked = evaluateCondition(node, run.operation.variableDefinitions, run.requestContext.request.variables)
        ? node.ifClause
        : node.elseClause;
      if (picked) await runNode(run, picked, path, data);
      return;
    }
    default:
      throw new Error(`query plan node ${node.kind} is not run here`);
  }
}

/**
 * valuesAt is @apollo/gateway's flattenResultsAtPath: the value at a plan path (`@` steps into each element of a
 * list), a list of every value reached when the path crosses a list, in one pass.
 */
export function valuesAt(value: unknown, path: readonly (string | number)[]): unknown {
  if (path.length === 0) return value;
  let values: unknown[] = [value];
  let listed = false;
  for (const step of path) {
    const next: unknown[] = [];
    for (const each of values) {
      if (each === undefined || each === null) {
        next.push(each);
      } else if (step === '@') {
        // As @apollo/gateway's value.flatMap(…) fails on anything but a list.
        if (!Array.isArray(each)) throw new TypeError('value.flatMap is not a function');
        for (const element of each) next.push(element);
      } else {
        if (typeof step !== 'string') throw new Error(`Unexpected ${typeof step} found in path`);
        if (Array.isArray(each)) throw new Error(`Unexpected array in result for path element ${step}`);
        next.push(Object.hasOwn(each, step) ? (each as Record<string, unknown>)[step] : undefined);
      }
    }
    if (step === '@') listed = true;
    values = next;
  }
  return listed ? values : values[0];
}

async function runFetch(run: Run, fetch: FetchNode, path: ResponsePath, data: unknown): Promise<void> {
  const service = run.services[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const all = (Array.isArray(data) ? data : [data]).filter((e) => e !== null && e !== undefined) as Record<
    string,
    unknown
  >[];
  if (all.length === 0) return;
  const variables = Object.create(null) as Record<string, unknown>;
  const provided = run.requestContext.request.variables;
  if (fetch.variableUsages && provided) {
    for (const name of fetch.variableUsages)
      if (Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
  }
  let representations: Record<string, unknown>[] = [];
  /** places[i] is the place in `all` the i-th representation sent was made for. */
  let places: number[] = [];
  let hydrated: ResponsePath[] | undefined;
  /**
   * placeOf places a subgraph's error in the client's answer: an error about the i-th representation of an
   * `_entities` fetch at the place that representation was asked for (hydrated once per fetch, and only on an error);
   * any other under the fetch's path.
   */
  const placeOf = (errorPath: readonly (string | number)[] | undefined): ResponsePath | undefined => {
    if (!errorPath) return undefined;
    if (!fetch.requires || typeof errorPath[1] !== 'number') return [...path, ...errorPath];
    if (!hydrated) generateHydratedPaths([], path, run.root, (hydrated = []));
    const k = places[errorPath[1]];
    return [...((k === undefined ? undefined : hydrated[k]) ?? []), ...errorPath.slice(2)];
  };
  const send = async (vars: Record<string, unknown>) => {
    const response = await service.process({
      kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
      request: { query: fetch.operation, variables: vars, operationName: fetch.operationName },
      incomingRequestContext: run.requestContext,
      context: run.requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: path,
    } as unknown as GraphQLDataSourceProcessOptions);
    if (response.errors) {
      const metrics = run.requestContext.metrics as { nonFtv1ErrorPaths?: { subgraph: string; path: unknown }[] };
      // All placed before any is kept, and read as a list, as @apollo/gateway reads them.
      const placed = response.errors.map((error) => downstreamError(error, fetch.serviceName, placeOf(error.path)));
      run.errors.push(...placed);
      if (!response.extensions?.ftv1 && metrics)
        (metrics.nonFtv1ErrorPaths ??= []).push(
          ...response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path })),
        );
    }
    return response.data;
  };

  if (!fetch.requires) {
    const received = await send(variables);
    if (received) applyRewrites(run.schema, fetch.outputRewrites, received);
    for (const entity of all.length > 1 ? new Set(all) : all) deepMerge(entity, received);
    return;
  }
  // An entity object reached along several paths (the same product under many reviews, after its first fetch) is
  // made a representation once and merged once; the representation is asked for at each place, as @apollo/gateway
  // asks, and the fetcher sends each distinct one once (gateway/representations.ts).
  const made = new Map<Record<string, unknown>, Record<string, unknown> | null>();
  for (let k = 0; k < all.length; k++) {
    const entity = all[k]!;
    let representation = made.get(entity);
    if (representation === undefined) {
      representation = selectionOf(run.schema, entity, fetch.requires);
      if (representation && representation.__typename) applyRewrites(run.schema, fetch.inputRewrites, representation);
      else representation = null;
      made.set(entity, representation);
    }
    if (representation) {
      representations.push(representation);
      places.push(k);
    }
  }
  if (representations.length === 0) return;
  if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
  /** mergeOnce merges an entity's answer into the object it was asked for, once per object. */
  const merged = new Set<Record<string, unknown>>();
  const mergeOnce = (owner: Record<string, unknown>, entity: Record<string, unknown> | null) => {
    if (merged.has(owner)) return;
    merged.add(owner);
    if (entity) applyRewrites(run.schema, fetch.outputRewrites, entity);
    deepMerge(owner, entity);
  };
  // A fetch of shared entity fields, or of a caller's own kept fields, answers the entities kept and asks only for the
  // others.
  const keeper = fetch.outputRewrites?.length ? undefined : keeperOf(run, fetch.serviceName, fetch.operation);
  if (keeper) {
    const found = keeper.lookup(representations);
    const asked: Record<string, unknown>[] = [];
    const askedPlaces: number[] = [];
    for (let i = 0; i < representations.length; i++) {
      const answer = found[i];
      if (answer) {
        mergeOnce(all[places[i]!]!, answer);
      } else {
        asked.push(representations[i]!);
        askedPlaces.push(places[i]!);
      }
    }
    if (asked.length === 0) return;
    representations = asked;
    places = askedPlaces;
  }
  const ticket = keeper?.ticket();
  const errorsBefore = run.errors.length;
  const received = await send({ ...variables, representations });
  if (!received) return;
  const list = (received as { _entities?: unknown })._entities;
  if (!Array.isArray(list)) throw new Error('Expected "data._entities" in response to be an array');
  if (list.length !== representations.length)
    throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  for (let i = 0; i < list.length; i++) {
    const owner = all[places[i]!]!;
    const entity = list[i] as Record<string, unknown> | null;
    if (entity && !entity.__typename) entity.__typename = owner.__typename;
    mergeOnce(owner, entity);
  }
  if (keeper && run.errors.length === errorsBefore) keeper.keep(ticket, representations, list);
}

/** downstreamError is @apollo/gateway's downstreamServiceError: a subgraph's error as the client gets it. */
function downstreamError(
  original: GraphQLFormattedError,
  serviceName: string,
  path: ResponsePath | undefined,
): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = {
    originalError: original as unknown as Error,
    path,
    extensions: { ...original.extensions, serviceName },
  };
  const codeDef = errorCodeDef(original);
  if (!codeDef && original.extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/** selectionOf is @apollo/gateway's executeSelectionSet: an entity's representation for a fetch's `requires`. */
function selectionOf(
  schema: GraphQLSchema,
  source: Record<string, unknown> | null,
  selections: readonly QueryPlanSelectionNode[],
): Record<string, unknown> | null {
  if (source === null) return null;
  // A plain object (quick to fill and to write as JSON): its keys are the plan's field names, never `__proto__`.
  const result: Record<string, unknown> = {};
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias ?? selection.name;
      const sub = selection.selections;
      if (!Object.hasOwn(source, name) || source[name] === undefined) return null;
      const value = source[name];
      if (Array.isArray(value))
        result[name] = value.map((v) => (sub ? selectionOf(schema, v as Record<string, unknown> | null, sub) : v));
      else if (sub) result[name] = selectionOf(schema, value as Record<string, unknown> | null, sub);
      else result[name] = value;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!selection.typeCondition) continue;
      if (isObjectOfType(schema, source, selection.typeCondition))
        deepMerge(result, selectionOf(schema, source, selection.selections));
    }
  }
  return result;
}
