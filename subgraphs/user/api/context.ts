import type DataLoader from 'dataloader';
import { byIdLoader } from '../../../foundation/graphql/loaders.js';
import type { CallerContext } from '../../../foundation/graphql/permissions.js';
import type { AccountService } from '../business/accounts.js';
import type { User } from '../business/users.js';

/** UserLoaders batch the user subgraph's look-ups within one request. */
export interface UserLoaders {
  user: DataLoader<string, User | null>;
}

/** UserContext is the per-request GraphQL context of the user subgraph. */
export interface UserContext extends CallerContext {
  loaders: UserLoaders;
}

/** createLoaders makes a request's loaders. */
export function createLoaders(accounts: AccountService): UserLoaders {
  return { user: byIdLoader('user', (ids) => accounts.usersByIds(ids)) };
}
