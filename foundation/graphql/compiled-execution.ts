import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import {
  execute,
  GraphQLError,
  Kind,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';

/**
 * compiledOperations keeps each document's compiled operations, by operation name, for as long as Apollo Server keeps
 * the parsed document (its document store hands the same object for the same text). `null` marks an operation that
 * graphql-js runs (one graphql-jit does not compile, or introspection).
 */
const compiledOperations = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();

/** asksForIntrospection tells whether an operation selects `__schema` or `__type` at its root. */
function asksForIntrospection(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.some(
    (s) => s.kind === Kind.FIELD && (s.name.value === '__schema' || s.name.value === '__type'),
  );
}

/**
 * compiledOperation is the operation compiled by graphql-jit, made on its first run, or null where graphql-js runs it:
 * subscriptions (they are served over graphql-ws, not here), introspection, and what graphql-jit cannot compile.
 */
function compiledOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  operationName: string | null,
): CompiledQuery | null {
  let byName = compiledOperations.get(document);
  if (!byName) compiledOperations.set(document, (byName = new Map()));
  const key = operationName ?? '';
  let compiled = byName.get(key);
  if (compiled === undefined) {
    if (operation.operation === 'subscription' || asksForIntrospection(operation)) compiled = null;
    else {
      const result = compileQuery(schema, document, operationName ?? undefined);
      compiled = isCompiledQuery(result) ? result : null;
    }
    byName.set(key, compiled);
  }
  return compiled;
}

/**
 * asGraphQLJsError makes one of graphql-jit's errors a graphql-js GraphQLError with the same message, locations, path,
 * original error and extensions: graphql-jit's own leaves `extensions` undefined where graphql-js has an object (Apollo
 * Server reads `extensions.code` of every error) and has no `nodes`, from which graphql-js derives the locations.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const converted = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? undefined,
  });
  (converted as { locations: GraphQLError['locations'] }).locations = error.locations;
  return converted;
}

/** CompiledExecution is the seam Apollo Server is given, and how many operations ran each way. */
export interface CompiledExecution extends GatewayInterface {
  /** executions counts operations run compiled and on graphql-js (a compiled run whose variables fail counts both). */
  readonly executions: { compiled: number; graphqlJs: number };
}

/**
 * compiledExecution hands Apollo Server a subgraph's schema with an executor that runs each operation compiled by
 * graphql-jit: the selections, argument and variable coercion and result completion become one function per
 * operation, instead of graphql-js's walk of the document for every object of the answer. Apollo Server still parses,
 * validates (once per document), runs its plugins and formats errors; graphql-shield, type-graphql and
 * @apollo/subgraph's resolvers run as they are. This is the executor seam Apollo Server 4 and 5 offer (its `gateway`
 * option: `load` gives the schema and the executor).
 */
export function compiledExecution(schema: GraphQLSchema): CompiledExecution {
  const executions = { compiled: 0, graphqlJs: 0 };
  const executor: GatewayExecutor = async ({ document, operation, operationName, request, context }) => {
    const query = compiledOperation(schema, document, operation, operationName);
    if (query) {
      executions.compiled++;
      const result = await query.query(undefined, context, request.variables ?? {});
      // Keys in graphql-js's order, errors first, as Apollo Server writes them.
      if (result.data !== undefined)
        return result.errors
          ? { errors: result.errors.map(asGraphQLJsError), data: result.data }
          : { data: result.data };
      // Only variables that do not coerce leave no data (nothing ran): graphql-js says why in its own words, which
      // Apollo Server recognises as BAD_USER_INPUT.
    }
    executions.graphqlJs++;
    return execute({
      schema,
      document,
      contextValue: context,
      variableValues: request.variables,
      operationName: operationName ?? undefined,
    });
  };
  return {
    executions,
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}
