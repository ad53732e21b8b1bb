import { context, createContextKey, type Context } from '@opentelemetry/api';
import type { RequestScope } from './http-server.js';

/**
 * The request's scope travels in OpenTelemetry's context, which already
 * follows every request through what it awaits (the context manager that
 * startTelemetry registers, on AsyncLocalStorage): one async-local store per
 * request instead of two, each of which Node 20 copied on every promise made.
 * Without a registered context manager (a process that never called
 * startTelemetry) there is no current scope.
 */
const SCOPE = createContextKey('fixup.request-scope');

/** withScope is ctx carrying scope as the current request's scope. */
export function withScope(ctx: Context, scope: RequestScope): Context {
  return ctx.setValue(SCOPE, scope);
}

/** currentScope is the scope of the request being served, if any. */
export function currentScope(): RequestScope | undefined {
  return context.active().getValue(SCOPE) as RequestScope | undefined;
}
