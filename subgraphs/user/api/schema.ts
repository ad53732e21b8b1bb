import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/core/ids.js';
import { withPermissions } from '../../../foundation/graphql/permissions.js';
import { buildFederatedSchema } from '../../../foundation/graphql/subgraph-schema.js';
import type { AccountService } from '../business/accounts.js';
import type { UserContext } from './context.js';
import { userPermissions } from './permissions.js';
import { AuthResolver, UserResolver } from './resolvers.js';

/**
 * buildUserSchema builds the user subgraph's schema, with its permissions,
 * around its business service; without one it can be printed but not executed.
 */
export async function buildUserSchema(accounts?: AccountService): Promise<GraphQLSchema> {
  const schema = await buildFederatedSchema<UserContext>({
    resolvers: [AuthResolver, UserResolver],
    instances: accounts
      ? new Map<Function, object>([
          [AuthResolver, new AuthResolver(accounts)],
          [UserResolver, new UserResolver(accounts)],
        ])
      : undefined,
    references: {
      // The same user for every caller: contracts/shared-entities.ts (fields the gateway fetches once for many callers)
      // relies on it. A rule about who may reach a user belongs on its fields, in permissions.ts.
      User: (ref, ctx) => (isId(ref.id) ? ctx.loaders.user.load(ref.id) : null),
    },
  });
  return withPermissions(schema, userPermissions);
}
