import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/ids.js';
import { buildFederatedSchema } from '../../../foundation/subgraph.js';
import type { UserService } from '../business/users.js';
import type { UserContext } from './context.js';
import { UserResolver } from './resolvers.js';
import { UserType } from './types.js';

/**
 * buildUserSchema builds the user subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export function buildUserSchema(users?: UserService): Promise<GraphQLSchema> {
  return buildFederatedSchema<UserContext>({
    resolvers: [UserResolver],
    instances: users ? new Map<Function, object>([[UserResolver, new UserResolver()]]) : undefined,
    orphanedTypes: [UserType],
    references: {
      User: (ref, ctx) => (isId(ref.id) ? ctx.loaders.user.load(ref.id) : null),
    },
  });
}
