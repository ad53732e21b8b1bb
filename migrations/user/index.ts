import type { MigrationClass } from '../../foundation/postgres/database.js';
import { CreateUsers1732300000000 } from './1732300000000-create-users.js';
import { Sessions1732400000000 } from './1732400000000-sessions.js';
import { SignInLinks1733000000000 } from './1733000000000-sign-in-links.js';
import { ProfileEvents1764720000000 } from './1764720000000-profile-events.js';
import { SessionEventsPruned1764892800000 } from './1764892800000-session-events-pruned.js';

/** userMigrations lists the user database's migrations in the order they run. */
export const userMigrations: MigrationClass[] = [
  CreateUsers1732300000000,
  Sessions1732400000000,
  SignInLinks1733000000000,
  ProfileEvents1764720000000,
  SessionEventsPruned1764892800000,
];
