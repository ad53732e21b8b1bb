import { In, type DataSource, type Repository } from 'typeorm';
import type { Role, User, UserStore } from '../business/users.js';
import { UserRow } from './entities.js';

/** toUser converts a row to the business value. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    roles: row.roles as Role[],
    emailVerified: row.emailVerified,
    avatarUrl: row.avatarUrl,
    createdAt: row.createdAt,
  };
}

/** PostgresUserStore is the user subgraph's storage on its own database. */
export class PostgresUserStore implements UserStore {
  private readonly users: Repository<UserRow>;

  constructor(dataSource: DataSource) {
    this.users = dataSource.getRepository(UserRow);
  }

  async usersByIds(ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return (await this.users.findBy({ id: In([...ids]) })).map(toUser);
  }
}
