import type { GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, rule, shield, type IRules } from 'graphql-shield';
import { ForbiddenError, UnauthenticatedError } from './errors.js';
import type { ScopedContext } from './graphql-errors.js';
import type { Caller } from './identity.js';

/** CallerContext is a subgraph context that knows its verified caller. */
export interface CallerContext extends ScopedContext {
  caller: Caller;
}

/** denied is the error for a refusal: UNAUTHENTICATED when signed out, FORBIDDEN when signed in. */
export function denied(ctx: CallerContext): Error {
  return ctx.caller.viewer ? new ForbiddenError() : new UnauthenticatedError();
}

/** isSignedIn allows any signed-in user. */
export const isSignedIn = rule({ cache: 'contextual' })((_parent, _args, ctx: CallerContext) =>
  ctx.caller.viewer ? true : new UnauthenticatedError(),
);

const roleRules = new Map<string, ReturnType<ReturnType<typeof rule>>>();

/** hasRole allows signed-in users who hold the role (one rule per role: shield wants rule names unique). */
export function hasRole(role: string) {
  let found = roleRules.get(role);
  if (!found) {
    found = rule(`hasRole:${role}`, { cache: 'contextual' })((_parent, _args, ctx: CallerContext) =>
      ctx.caller.viewer?.roles.includes(role) ? true : denied(ctx),
    );
    roleRules.set(role, found);
  }
  return found;
}

/** isAdmin allows admins. */
export const isAdmin = hasRole('ADMIN');

/** ownerOrAdmin allows the user whose id ownerOf reads from the parent object, and admins. */
export function ownerOrAdmin(name: string, ownerOf: (parent: any) => string | null | undefined) {
  return rule(name, { cache: 'no_cache' })((parent, _args, ctx: CallerContext) => {
    const viewer = ctx.caller.viewer;
    if (viewer && (viewer.roles.includes('ADMIN') || ownerOf(parent) === viewer.id)) return true;
    return denied(ctx);
  });
}

/** FEDERATION_RULES let the gateway reach the federation fields; the entity types' own rules still apply. */
export const FEDERATION_RULES = {
  Query: { _service: allow, _entities: allow },
  _Service: allow,
};

/**
 * withPermissions applies graphql-shield to a finished subgraph schema. Every
 * field without a rule is denied; errors thrown by resolvers pass through to
 * the central error mapping. Applied to the schema that buildSubgraphSchema
 * returns, it keeps `__resolveReference` and guards entity fields reached
 * through `_entities` too.
 */
export function withPermissions(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  const merged = mergeRules(FEDERATION_RULES, rules as Record<string, unknown>);
  return applyMiddleware(
    schema,
    shield(merged as IRules, {
      fallbackRule: rule('denyByDefault', { cache: 'contextual' })((_p, _a, ctx: CallerContext) => denied(ctx)),
      allowExternalErrors: true,
      fallbackError: (err, _parent, _args, ctx) => (err instanceof Error ? err : denied(ctx as unknown as CallerContext)),
    }),
  );
}

function mergeRules(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [type, value] of Object.entries(b)) {
    const left = out[type];
    out[type] =
      left && typeof left === 'object' && value && typeof value === 'object' && !('resolve' in (value as object)) && !('resolve' in (left as object))
        ? { ...(left as object), ...(value as object) }
        : value;
  }
  return out;
}
