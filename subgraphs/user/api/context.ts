import type DataLoader from 'dataloader';
import type { ScopedContext } from '../../../foundation/graphql-errors.js';
import { byIdLoader } from '../../../foundation/loaders.js';
import type { User, UserService } from '../business/users.js';

/** UserLoaders batch the user subgraph's look-ups within one request. */
export interface UserLoaders {
  user: DataLoader<string, User | null>;
}

/** UserContext is the per-request GraphQL context of the user subgraph. */
export interface UserContext extends ScopedContext {
  loaders: UserLoaders;
}

/** createLoaders makes a request's loaders. */
export function createLoaders(users: UserService): UserLoaders {
  return { user: byIdLoader((ids) => users.usersByIds(ids)) };
}
