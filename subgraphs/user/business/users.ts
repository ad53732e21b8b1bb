/** Role is what a user may act as. */
export type Role = 'CUSTOMER' | 'PROVIDER' | 'ADMIN';

/** ROLES lists every role. */
export const ROLES: readonly Role[] = ['CUSTOMER', 'PROVIDER', 'ADMIN'];

/** User is an account. */
export interface User {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  emailVerified: boolean;
  avatarUrl: string | null;
  createdAt: Date;
}

/** UserStore is the storage the user subgraph needs; the store layer implements it. */
export interface UserStore {
  usersByIds(ids: readonly string[]): Promise<User[]>;
}

/** UserService holds the rules about accounts. */
export class UserService {
  constructor(private readonly store: UserStore) {}

  /** usersByIds loads a batch of users (entity references, loaders). */
  usersByIds(ids: readonly string[]): Promise<User[]> {
    return this.store.usersByIds(ids);
  }
}
