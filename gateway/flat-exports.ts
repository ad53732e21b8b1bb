import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * flattenReexports makes a CommonJS package's exports plain data properties, for every module that requires it from
 * now on. TypeScript's CommonJS output re-exports a package's modules (`export * from './definitions'`) as getters, one
 * per name, on an object with hundreds of them, where V8 does not inline them: `@apollo/gateway`'s result shaping
 * calls `isNonNullType`, `isListType` and the like through them for every value of an answer, and the getters were
 * 5.8% of the gateway's busy time on the heavy query (docs/performance.md, lever 22). The values are copied once,
 * after the package has loaded all its modules, so nothing that requires it later sees a difference but the speed.
 */
export function flattenReexports(specifier: string): void {
  const path = require.resolve(specifier);
  const loaded = require(specifier) as Record<string, unknown>;
  const flat: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(loaded)) flat[key] = loaded[key];
  require.cache[path]!.exports = flat;
}

// Before @apollo/gateway and @apollo/query-planner are loaded: import this module first.
flattenReexports('@apollo/federation-internals');
