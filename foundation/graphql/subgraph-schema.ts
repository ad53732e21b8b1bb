import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { assertValidSchema, parse, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type MiddlewareFn, type NonEmptyArray } from 'type-graphql';
import { InvalidInputError } from '../core/errors.js';
import { DateTimeScalar } from './scalars.js';
import { requestScopePlugin, toClientError, type ScopedContext } from './errors.js';
import { spansExported } from '../telemetry/tracing.js';

/** FEDERATION_LINK opts a subgraph into Federation 2 and imports the directives Fixup uses. */
export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible"])';

/** ReferenceResolver loads an entity from its key representation, as `__resolveReference` does. */
export type ReferenceResolver<C> = (reference: Record<string, unknown>, context: C, info: GraphQLResolveInfo) => unknown;

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

/** nulCharacterAt names the first argument path whose text holds a NUL character, which no PostgreSQL text can store. */
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
    for (const [key, item] of Object.entries(value)) {
      const found = nulCharacterAt(item, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

/**
 * textArguments refuses text with a NUL character in any argument as
 * BAD_USER_INPUT naming the field, before a resolver runs: PostgreSQL cannot
 * store it, and would otherwise fail the statement as an internal error.
 */
export const textArguments: MiddlewareFn = ({ args }, next) => {
  for (const key in args) {
    const found = nulCharacterAt(args[key], key);
    if (found) throw new InvalidInputError(found, `${found} must not contain NUL characters`);
  }
  return next();
};

/**
 * buildFederatedSchema turns type-graphql classes into a Federation 2 subgraph
 * schema: it builds the type-graphql schema, prints it with its directives
 * (plain printSchema would drop `@key`), and hands that SDL with type-graphql's
 * resolvers and the reference resolvers to `buildSubgraphSchema`.
 */
export async function buildFederatedSchema<C>(options: SubgraphSchemaOptions<C>): Promise<GraphQLSchema> {
  const instances = options.instances ?? new Map<Function, object>();
  const schema = await buildSchema({
    resolvers: options.resolvers,
    orphanedTypes: options.orphanedTypes,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    // Every subscription brings its own subscribe function (backed by the database); an in-memory topic PubSub would not
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
    // A global middleware wraps every field, scalars included, in a promise: spans only when they go somewhere.
    globalMiddlewares: spansExported() ? [resolverSpans, textArguments] : [textArguments],
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
export function createSubgraphServer<C extends ScopedContext>(schema: GraphQLSchema): ApolloServer<C> {
  return new ApolloServer<C>({
    schema,
    formatError: toClientError,
    includeStacktraceInErrorResponses: false,
    // The process's Lifecycle owns signals and stops Apollo in order.
    stopOnTerminationSignals: false,
    plugins: [requestScopePlugin<C>(), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled()],
  });
}
