import 'reflect-metadata';
import { ApolloServer, type ApolloServerPlugin, type BaseContext, type GraphQLRequestListener } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  assertValidSchema,
  BREAK,
  GraphQLError,
  Kind,
  parse,
  visit,
  type DocumentNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import {
  buildSchema,
  createResolversMap,
  getMetadataStorage,
  type MiddlewareFn,
  type NonEmptyArray,
} from 'type-graphql';
import { DateTimeScalar } from './scalars.js';
import { requestScopePlugin, toClientError, type ScopedContext } from './errors.js';
import { spansExported } from '../telemetry/tracing.js';

/** FEDERATION_LINK opts a subgraph into Federation 2 and imports the directives Fixup uses. */
export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible"])';

/** ReferenceResolver loads an entity from its key representation, as `__resolveReference` does. */
export type ReferenceResolver<C> = (
  reference: Record<string, unknown>,
  context: C,
  info: GraphQLResolveInfo,
) => unknown;

/** SubgraphSchemaOptions are the type-graphql pieces of one subgraph. */
export interface SubgraphSchemaOptions<C> {
  /** resolvers are the type-graphql resolver classes. */
  resolvers: NonEmptyArray<Function>;
  /** instances maps each resolver class to its instance, built with its dependencies in main. */
  instances?: ReadonlyMap<Function, object>;
  /** references maps an entity type name to its reference resolver. */
  references?: Record<string, ReferenceResolver<C>>;
  /** orphanedTypes are types reachable only through federation (entity stubs). */
  orphanedTypes?: Function[];
}

const tracer = trace.getTracer('fixup.graphql');

/**
 * resolverSpans gives each root field its own span, so the SQL it runs nests
 * under it. Fields below the root are not traced one object at a time (a list
 * of a thousand objects would make a thousand spans and their garbage); their
 * batched loads get one span per batch instead (foundation/loaders.ts).
 */
export const resolverSpans: MiddlewareFn = async ({ info }, next) => {
  const root = info.parentType === info.schema.getQueryType() || info.parentType === info.schema.getMutationType();
  if (!root) return next();
  return tracer.startActiveSpan(`resolve ${info.parentType.name}.${info.fieldName}`, async (span) => {
    try {
      return await next();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
};

/**
 * nulCharacterAt names the first path in a variable's value whose text holds a NUL character, which no PostgreSQL text
 * can store.
 */
function nulCharacterAt(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = nulCharacterAt(item, path);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const key in value) {
      const found = nulCharacterAt((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

/**
 * NulCheck is one place of a document where an argument's text may hold a NUL
 * character: a variable used there (and, when it is not sent, what its default
 * finds), or a string literal that holds one.
 */
type NulCheck = { literal: string } | { variable: string; path: string; byDefault: string | null };

/** nulChecks are each document's checks in document order, found once per document (Apollo keeps parsed documents). */
const nulChecks = new WeakMap<DocumentNode, readonly NulCheck[]>();

/** nulChecksOf reads a document's arguments once: literals are checked here, variables listed for each request. */
function nulChecksOf(document: DocumentNode): readonly NulCheck[] {
  const known = nulChecks.get(document);
  if (known) return known;
  const defaults = new Map<string, ValueNode>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      if (variable.defaultValue) defaults.set(variable.variable.name.value, variable.defaultValue);
    }
  }
  const checks: NulCheck[] = [];
  // literalAt is the first path under node whose literal text holds a NUL character; it lists the variables before it.
  const literalAt = (node: ValueNode, path: string): string | null => {
    switch (node.kind) {
      case Kind.STRING:
        return node.value.includes('\u0000') ? path : null;
      case Kind.VARIABLE: {
        const name = node.name.value;
        const fallback = defaults.get(name);
        // A default value is constant (no variables in it), so reading it adds no check.
        checks.push({ variable: name, path, byDefault: fallback ? literalAt(fallback, path) : null });
        return null;
      }
      case Kind.LIST:
        for (const item of node.values) {
          const found = literalAt(item, path);
          if (found) return found;
        }
        return null;
      case Kind.OBJECT:
        for (const field of node.fields) {
          const found = literalAt(field.value, `${path}.${field.name.value}`);
          if (found) return found;
        }
        return null;
      default:
        return null;
    }
  };
  visit(document, {
    Argument(node) {
      const found = literalAt(node.value, node.name.value);
      if (!found) return false;
      // Nothing after a literal that always fails is ever read.
      checks.push({ literal: found });
      return BREAK;
    },
  });
  nulChecks.set(document, checks);
  return checks;
}

/**
 * nulTextArgument names the first argument, as `argument.field.field`, whose
 * text holds a NUL character: a string literal in the document, or the value
 * (or, when none was sent, the default) of a variable used there. The document
 * is read once (its checks are kept with it); each request reads only the
 * variables the document's arguments use, instead of every field's arguments
 * as they resolve.
 */
export function nulTextArgument(
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): string | null {
  for (const check of nulChecksOf(document)) {
    if ('literal' in check) return check.literal;
    const found =
      variables && check.variable in variables
        ? nulCharacterAt(variables[check.variable], check.path)
        : check.byDefault;
    if (found) return found;
  }
  return null;
}

/**
 * textArgumentsPlugin refuses text with a NUL character in any argument as
 * BAD_USER_INPUT naming the argument, before a resolver runs: PostgreSQL cannot
 * store it, and would otherwise fail the statement as an internal error. It
 * checks once per request at the boundary (a type-graphql global middleware did
 * it per field, wrapping every field, scalars included, in promises).
 */
export function textArgumentsPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  const listener: GraphQLRequestListener<C> = {
    async didResolveOperation({ document, request }) {
      const field = nulTextArgument(document, request.variables);
      if (field) {
        // Status 200: the gateway reads the error and its field like any resolver's.
        throw new GraphQLError(`${field} must not contain NUL characters`, {
          extensions: { code: 'BAD_USER_INPUT', field, http: { status: 200 } },
        });
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/**
 * buildFederatedSchema turns type-graphql classes into a Federation 2 subgraph
 * schema: it builds the type-graphql schema, prints it with its directives
 * (plain printSchema would drop `@key`), and hands that SDL with type-graphql's
 * resolvers and the reference resolvers to `buildSubgraphSchema`.
 */
export async function buildFederatedSchema<C>(options: SubgraphSchemaOptions<C>): Promise<GraphQLSchema> {
  const instances = options.instances ?? new Map<Function, object>();
  readPlainFieldsAsProperties();
  const schema = await buildSchema({
    resolvers: options.resolvers,
    orphanedTypes: options.orphanedTypes,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    // Every subscription brings its own subscribe function (backed by the database); an in-memory topic PubSub would
    // not
    // reach other processes, so none is offered.
    pubSub: {
      publish() {
        throw new Error('subscriptions use their own subscribe function, not topics');
      },
      subscribe() {
        throw new Error('subscriptions use their own subscribe function, not topics');
      },
    },
    // A subgraph may own no root field of its own; the finished subgraph schema is checked below instead.
    skipCheck: true,
    // A global middleware wraps every field, scalars included, in promises: spans only when they go somewhere, and
    // no other global middleware (text arguments are checked once per request by textArgumentsPlugin).
    globalMiddlewares: spansExported() ? [resolverSpans] : [],
    container: {
      get(someClass: Function) {
        const instance = instances.get(someClass);
        if (!instance) throw new Error(`no instance wired for ${someClass.name}`);
        return instance;
      },
    },
  });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const [typeName, resolve] of Object.entries(options.references ?? {})) {
    resolvers[typeName] = { ...(resolvers[typeName] ?? {}), __resolveReference: resolve };
  }
  const typeDefs = parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`);
  const subgraph = buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });
  assertValidSchema(subgraph);
  return subgraph;
}

/**
 * readPlainFieldsAsProperties marks every field declared as a class property (`@Field`), with no middleware or role
 * of its own, as type-graphql's `simple`: graphql's default resolver reads it. type-graphql's basic resolver made an
 * object and a closure for each read, and ran the global middlewares (spans, when exported) around a property read.
 * A field with a `@FieldResolver` keeps its resolver (type-graphql prefers it to `simple`).
 */
function readPlainFieldsAsProperties(): void {
  const storage = getMetadataStorage();
  // A field's middlewares and roles reach its FieldMetadata only when the schema is built: read them where their
  // decorators put them (on the field, or on its whole class).
  const guarded = new Set<Function>([
    ...storage.resolverMiddlewares.map((m) => m.target),
    ...storage.authorizedResolver.map((a) => a.target),
  ]);
  const guardedFields = new Set<string>();
  for (const { target, fieldName } of [...storage.middlewares, ...storage.authorizedFields])
    guardedFields.add(`${target.name}\n${fieldName}`);
  for (const field of storage.fields) {
    if (field.simple !== undefined || field.middlewares?.length || field.roles?.length) continue;
    if (guarded.has(field.target) || guardedFields.has(`${field.target.name}\n${field.name}`)) continue;
    field.simple = true;
  }
}

/** subgraphSdl prints a subgraph schema as composition reads it (what `_service { sdl }` answers). */
export function subgraphSdl(schema: GraphQLSchema): string {
  return printSubgraphSchema(schema).trim() + '\n';
}

/**
 * createSubgraphServer makes the Apollo Server of a subgraph: errors mapped
 * once to the contract's codes, unexpected ones logged in full, no landing
 * page, no inline traces (tracing is OpenTelemetry's job), and no cache-control
 * plugin: no field carries a cache hint, and the plugin's hook ran on every
 * resolved field, scalars included.
 */
export function createSubgraphServer<C extends ScopedContext>(
  schema: GraphQLSchema,
  answerHeaders?: AnswerHeaders,
): ApolloServer<C> {
  return new ApolloServer<C>({
    schema,
    formatError: toClientError,
    includeStacktraceInErrorResponses: false,
    // The process's Lifecycle owns signals and stops Apollo in order.
    stopOnTerminationSignals: false,
    plugins: [
      requestScopePlugin<C>(),
      textArgumentsPlugin<C>(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      ...(answerHeaders ? [answerHeadersPlugin<C>(answerHeaders)] : []),
    ],
  });
}

/**
 * AnswerHeaders names headers a subgraph adds to an operation's answer once it ran, given the operation's type (the
 * user subgraph marks a mutation's answer with the session feed's sequence number).
 */
export type AnswerHeaders = (operation: 'query' | 'mutation' | 'subscription' | undefined) => Record<string, string>;

function answerHeadersPlugin<C extends ScopedContext>(answerHeaders: AnswerHeaders): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, response }) {
          for (const [key, value] of Object.entries(answerHeaders(operation?.operation)))
            response.http.headers.set(key, value);
        },
      };
    },
  };
}
