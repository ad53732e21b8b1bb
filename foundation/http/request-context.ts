import { AsyncLocalStorage } from 'node:async_hooks';
import type { Caller } from '../../contracts/caller.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * RequestScope is what the HTTP layer knows of one request. Handlers fill in
 * the operation name and outcome so the request's one log line can say them.
 */
export interface RequestScope {
  requestId: string;
  /**
   * traceparent is the W3C trace context of the request's server span: its log lines, the audit events it records and
   * the calls it makes name that trace, whether or not spans are recorded (no context manager carries it then).
   */
  traceparent?: string;
  logger: Logger;
  /** caller is who the request acts for, once verified (by the gateway, or by a subgraph from the gateway's token). */
  caller?: Caller;
  operationName?: string;
  outcome?: string;
  errorCodes?: string[];
  /** refusal says why a request was refused before it ran (a limit's name, say), for the metrics. */
  refusal?: string;
  /** statements counts the SQL statements this request sent. */
  statements?: number;
  /**
   * resumeSince is when a subscription resumed by the gateway first started (ms since the epoch), if it had delivered
   * nothing yet.
   */
  resumeSince?: number;
}

const storage = new AsyncLocalStorage<RequestScope>();

/**
 * asyncContextIsBuiltIn tells whether this Node keeps AsyncLocalStorage in its own async context frames (Node 24 and
 * later). Before that, the first runInScope installs a hook that runs on every promise the process makes: about a tenth
 * of a subgraph's CPU per request (docs/performance.md, lever 20), so nothing uses it there unless a setting asks.
 */
export const asyncContextIsBuiltIn = Number(process.versions.node.split('.')[0]) >= 24;

/**
 * runInScope runs fn with scope as the current request's scope, for everything it awaits. Only code that cannot be
 * handed the scope reads it back (counting a request's SQL statements); everything else is passed the scope.
 */
export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** outsideScope runs fn with no request's scope: work that serves several requests (a grouped statement) is none's. */
export function outsideScope<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** currentScope is the scope of the request being served, if any. */
export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}
