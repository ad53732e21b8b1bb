import type { BusinessErrorCode } from '../../contracts/errors.js';

/**
 * ErrorCode is the contract's set of client-facing error codes that business
 * code may raise (contracts/errors.ts). GraphQL-level codes (parse, validation) come from the server.
 */
export type ErrorCode = BusinessErrorCode;

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

/** RateLimitedError says the caller sent too many requests and when to retry. */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', 'Too many requests', { retryAfterSeconds });
  }
}
