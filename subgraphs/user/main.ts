import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { loadSettings, maskSecrets } from '../../foundation/config.js';
import { runSubgraph, subgraphSettings } from '../../foundation/subgraph-service.js';
import { userMigrations } from '../../migrations/user/index.js';
import { createLoaders, type UserContext } from './api/context.js';
import { buildUserSchema } from './api/schema.js';
import { UserService } from './business/users.js';
import { UserRow } from './store/entities.js';
import { PostgresUserStore } from './store/user-store.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = subgraphSettings('user', 4001, root);
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup user subgraph');

await runSubgraph<UserContext>({
  name: 'user',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [UserRow],
  migrations: userMigrations,
  async wire(dataSource) {
    const users = new UserService(new PostgresUserStore(dataSource));
    return {
      schema: await buildUserSchema(users),
      context: async (_req, scope) => ({ scope, loaders: createLoaders(users) }),
    };
  },
});
