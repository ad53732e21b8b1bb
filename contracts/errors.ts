import { z } from 'zod';

/**
 * BusinessErrorCode is a contract error code that business code raises (a typed error in foundation/core/errors.ts).
 */
export const BusinessErrorCode = z.enum([
  'UNAUTHENTICATED',
  'SESSION_STALE',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
]);
export type BusinessErrorCode = z.infer<typeof BusinessErrorCode>;

/**
 * ErrorCode is every `extensions.code` a client may see: the business codes,
 * and the ones the gateway and GraphQL servers give (parse, validation, limits,
 * persisted operations, a subgraph down). Anything else is INTERNAL_SERVER_ERROR.
 */
export const ErrorCode = z.enum([
  ...BusinessErrorCode.options,
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'OPERATION_TOO_COMPLEX',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_NOT_REGISTERED',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'INTERNAL_SERVER_ERROR',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** CLIENT_EXTENSIONS are the only error extensions a client ever sees. */
export const CLIENT_EXTENSIONS = ['code', 'field', 'retryAfterSeconds', 'limit', 'max'] as const;
