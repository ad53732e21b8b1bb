// graphql-shield 7.6, the last release, imports `isUndefined` from node:util,
// which Node 23 removed: its ES module build then fails to link on Node 24.
// Its CommonJS build reads the function only when a rule chain runs, so it is
// loaded here, once, through require, after giving node:util the one function
// it needs. Every permission module imports graphql-shield from this file, and
// graphql-middleware too: shield's middleware generator must meet the same
// (CommonJS) copy of graphql-middleware that applies it.
import { createRequire } from 'node:module';
import util from 'node:util';
import type * as Middleware from 'graphql-middleware';
import type * as Shield from 'graphql-shield';

const legacy = util as typeof util & { isUndefined?: (value: unknown) => boolean };
legacy.isUndefined ??= (value: unknown) => value === undefined;

const require = createRequire(import.meta.url);
const loaded = require('graphql-shield') as typeof Shield;
const middleware = require('graphql-middleware') as typeof Middleware;

/** applyMiddleware wraps a schema's resolvers in middleware (graphql-middleware's, the copy graphql-shield uses). */
export const applyMiddleware = middleware.applyMiddleware;

/** shield applies a rule tree to a schema (graphql-shield's `shield`). */
export const shield = loaded.shield;
/** rule makes a rule from a function (graphql-shield's `rule`). */
export const rule = loaded.rule;
/** allow is the rule that lets every caller through. */
export const allow = loaded.allow;
/** deny is the rule that refuses every caller. */
export const deny = loaded.deny;
/** and passes when every rule passes. */
export const and = loaded.and;
/** or passes when any rule passes. */
export const or = loaded.or;
export type { IRules } from 'graphql-shield';
