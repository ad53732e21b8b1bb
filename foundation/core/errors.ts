import type { BusinessErrorCode } from '../../contracts/errors.js';

/**
 * ErrorCode is the contract's set of client-facing error codes that business
 * code may raise (contracts/errors.ts). GraphQL-level codes (parse, validation) come from the server.
 */
export type ErrorCode = BusinessErrorCode | 'SERVICE_UNAVAILABLE';

/**
 * AppError is a failure the client is meant to see: its message is safe to
 * show and its code is one of the contract's. Anything that is not an AppError
 * is unexpected and is masked as INTERNAL_SERVER_ERROR.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** NotFoundError says the object does not exist or the caller may not know it does. */
export class NotFoundError extends AppError {
  constructor(what: string, id?: string) {
    super('NOT_FOUND', id === undefined ? `${what} not found` : `${what} ${id} not found`);
  }
}

/** ConflictError says the object's current state does not allow the change, or it is a duplicate. */
export class ConflictError extends AppError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** ForbiddenError says the caller is signed in but not allowed. */
export class ForbiddenError extends AppError {
  constructor(message = 'Not allowed') {
    super('FORBIDDEN', message);
  }
}

/** UnauthenticatedError says there is no valid session, or the credentials are wrong. */
export class UnauthenticatedError extends AppError {
  constructor(message = 'Not signed in') {
    super('UNAUTHENTICATED', message);
  }
}

/** SessionStaleError says the token predates a change of the user's roles. */
export class SessionStaleError extends AppError {
  constructor() {
    super('SESSION_STALE', 'Session is stale: refresh it and retry');
  }
}

/** InvalidInputError says one input field failed validation; field is its path, such as `input.name`. */
export class InvalidInputError extends AppError {
  constructor(field: string, message: string) {
    super('BAD_USER_INPUT', message, { field });
  }
}

/** ServiceUnavailableError says a part of the system this answer needs (a database, say) is down: retry later. */
export class ServiceUnavailableError extends AppError {
  constructor(message = 'Service unavailable: retry later') {
    super('SERVICE_UNAVAILABLE', message);
  }
}

/**
 * UNAVAILABLE_SQLSTATES are PostgreSQL's codes for "no connection to be had": connection exceptions (08…), shutdown and
 * start-up (57P01–57P03), too many connections.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
/** UNAVAILABLE_SOCKET_CODES are Node's codes for a server that cannot be reached. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/** UNAVAILABLE_MESSAGES are pg's and pg-pool's words for a connection lost or never made. */
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended)/i;

/**
 * isDatabaseUnavailable tells whether an error (or the driver error inside a
 * TypeORM error, or its cause) says the database cannot be reached: refused or
 * lost connections, connection timeouts, a server shutting down or starting
 * up, and FATAL errors at connection time (such as a database that accepts no
 * connections). A statement's own failure (a constraint, a timeout) is not.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const e = error as {
    code?: unknown;
    severity?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_SOCKET_CODES.has(e.code)))
    return true;
  if (e.severity === 'FATAL') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  // An AggregateError (a connection tried on IPv4 and IPv6, say) is unavailable when every attempt was.
  if (
    Array.isArray(e.errors) &&
    e.errors.length > 0 &&
    e.errors.every((inner) => isDatabaseUnavailable(inner, depth + 1))
  )
    return true;
  return isDatabaseUnavailable(e.driverError, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1);
}

/** RateLimitedError says the caller sent too many requests and when to retry. */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests') {
    super('RATE_LIMITED', message, { retryAfterSeconds });
  }
}
