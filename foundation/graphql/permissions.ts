import { GraphQLObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { allow, applyMiddleware, rule, shield, type IRules } from './shield.js';
import { ForbiddenError, UnauthenticatedError } from '../core/errors.js';
import type { ScopedContext } from './errors.js';
import { createParameterDecorator } from 'type-graphql';
import { isSignedIn as signedIn, type Caller, type Role, type SignedInCaller } from '../../contracts/caller.js';

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
  signedIn(ctx.caller) ? true : new UnauthenticatedError(),
);

/**
 * signedInCaller narrows a caller that a rule has let through as signed in (UNAUTHENTICATED should a field lack the
 * rule).
 */
export function signedInCaller(caller: Caller): SignedInCaller {
  if (!signedIn(caller)) throw new UnauthenticatedError();
  return caller;
}

/**
 * SignedIn hands a resolver its caller typed as signed in, for fields whose
 * rule (isSignedIn, hasRole, isAdmin…) admits signed-in users only:
 * `@SignedIn() caller: SignedInCaller` instead of asserting `caller.viewer!`.
 */
export function SignedIn() {
  return createParameterDecorator<CallerContext>(({ context }) => signedInCaller(context.caller));
}

const roleRules = new Map<Role, ReturnType<ReturnType<typeof rule>>>();

/** hasRole allows signed-in users who hold the role (one rule per role: shield wants rule names unique). */
export function hasRole(role: Role) {
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
 *
 * Shield is kept only on fields that carry a rule of their own (or fall to the
 * deny-by-default rule). A field whose rule is `allow` (its own, its type's, or
 * its type's `'*'`) gets its plain resolver back: wrapping it would cost a
 * chain of promises per resolved value, scalars included, to learn nothing.
 */
export function withPermissions(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  const merged = mergeRules(FEDERATION_RULES, rules as Record<string, unknown>);
  const plain = new Map<string, GraphQLFieldResolver<unknown, unknown> | undefined>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (ruleOf(merged, type.name, field.name) === allow) plain.set(`${type.name}.${field.name}`, field.resolve);
    }
  }
  const shielded = applyMiddleware(
    schema,
    shield(merged as IRules, {
      fallbackRule: rule('denyByDefault', { cache: 'contextual' })((_p, _a, ctx: CallerContext) => denied(ctx)),
      allowExternalErrors: true,
      fallbackError: (err, _parent, _args, ctx) =>
        err instanceof Error ? err : denied(ctx as unknown as CallerContext),
    }),
  );
  for (const type of Object.values(shielded.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      if (plain.has(key)) field.resolve = plain.get(key);
    }
  }
  return shielded;
}

/**
 * ruleOf is the rule shield applies to one field: the field's own, else its type's `'*'`, else its type's rule;
 * undefined falls to the default (deny).
 */
function ruleOf(rules: Record<string, unknown>, typeName: string, fieldName: string): unknown {
  const forType = rules[typeName];
  if (forType === undefined) return undefined;
  if (forType && typeof forType === 'object' && !isRule(forType)) {
    const map = forType as Record<string, unknown>;
    return map[fieldName] ?? map['*'];
  }
  return forType;
}

/** isRule tells a shield rule (or logic rule) from a map of rules by field. */
function isRule(value: object): boolean {
  return typeof (value as { resolve?: unknown }).resolve === 'function';
}

function mergeRules(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [type, value] of Object.entries(b)) {
    const left = out[type];
    out[type] =
      left &&
      typeof left === 'object' &&
      value &&
      typeof value === 'object' &&
      !('resolve' in (value as object)) &&
      !('resolve' in (left as object))
        ? { ...(left as object), ...(value as object) }
        : value;
  }
  return out;
}
