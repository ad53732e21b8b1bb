import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestScope } from './http-server.js';

const storage = new AsyncLocalStorage<RequestScope>();

/** runInScope runs fn with scope as the current request's scope, for everything it awaits. */
export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** currentScope is the scope of the request being served, if any. */
export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}
