import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { CLIENT_EXTENSIONS as CONTRACT_EXTENSIONS, ErrorCode } from '../../contracts/errors.js';
import { AppError, isDatabaseUnavailable, ServiceUnavailableError } from '../core/errors.js';
import type { RequestScope } from '../http/server.js';

/** INTERNAL_MESSAGE is the only thing a client learns of an unexpected error. */
export const INTERNAL_MESSAGE = 'Internal server error';

/**
 * CLIENT_CODES are the contract's error codes (contracts/errors.ts): errors that carry one are shown to the client as
 * they are.
 */
export const CLIENT_CODES: ReadonlySet<string> = new Set(
  ErrorCode.options.filter((code) => code !== 'INTERNAL_SERVER_ERROR'),
);

/**
 * CLIENT_EXTENSIONS are the only extensions a client ever sees (the contract's
 * Errors section): anything else a server or subgraph adds (subgraph names and
 * URLs, stack traces, HTTP details) is for the log.
 */
export const CLIENT_EXTENSIONS: readonly string[] = CONTRACT_EXTENSIONS;

/** clientExtensions keeps only the contract's extensions, with code set. */
function clientExtensions(
  extensions: Readonly<Record<string, unknown>> | undefined,
  code: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CLIENT_EXTENSIONS) {
    const value = extensions?.[key];
    if (value !== undefined && (typeof value === 'string' || typeof value === 'number')) out[key] = value;
  }
  out.code = code;
  return out;
}

/**
 * toClientError decides what the client sees of one error. An AppError keeps
 * its message, code and details. An error that the server or a subgraph
 * already gave a contract code (parse, validation, variable coercion, a
 * subgraph's mapped error arriving at the gateway) passes through. A database
 * that cannot be reached is SERVICE_UNAVAILABLE (and nothing of it is shown).
 * Everything else is unexpected and becomes INTERNAL_SERVER_ERROR with a generic message.
 */
export function toClientError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  const original = isDatabaseUnavailable(unwrapped) ? new ServiceUnavailableError() : unwrapped;
  const base = {
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
  if (original instanceof AppError) {
    return { message: original.message, ...base, extensions: clientExtensions(original.details, original.code) };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    return { message: formatted.message, ...base, extensions: clientExtensions(formatted.extensions, code) };
  }
  return { message: INTERNAL_MESSAGE, ...base, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** isUnexpected tells whether an error would be masked, and so must be logged in full. */
export function isUnexpected(error: GraphQLError): boolean {
  return (
    toClientError({ message: error.message, extensions: error.extensions }, error).extensions?.code ===
    'INTERNAL_SERVER_ERROR'
  );
}

/** ScopedContext is a GraphQL context that carries its HTTP request's scope. */
export interface ScopedContext extends BaseContext {
  scope: RequestScope;
}

/**
 * requestScopePlugin tells the HTTP layer the operation's name and outcome for
 * its log line, and logs every unexpected error in full (with the request id
 * and, through the logger, the trace id) while the client sees it masked.
 */
export function requestScopePlugin<C extends ScopedContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ operationName }) {
          if (operationName) contextValue.scope.operationName = operationName;
        },
        async didEncounterErrors({ errors, operationName }) {
          if (operationName) contextValue.scope.operationName = operationName;
          const codes = new Set(contextValue.scope.errorCodes ?? []);
          for (const error of errors) {
            if (isDatabaseUnavailable(unwrapResolverError(error))) {
              codes.add('SERVICE_UNAVAILABLE');
              contextValue.scope.logger.warn(
                { err: unwrapResolverError(error), path: error.path },
                'database unavailable',
              );
            } else if (isUnexpected(error)) {
              codes.add('INTERNAL_SERVER_ERROR');
              contextValue.scope.logger.error(
                { err: unwrapResolverError(error), path: error.path, graphqlMessage: error.message },
                'unexpected error',
              );
            } else {
              codes.add(String(error.extensions?.code ?? (unwrapResolverError(error) as AppError).code));
            }
          }
          contextValue.scope.errorCodes = [...codes];
          contextValue.scope.outcome = 'error';
        },
      };
    },
  };
}
