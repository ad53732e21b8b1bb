import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { loadSettings, maskSecrets } from '../../foundation/service/config.js';
import { sessionEventsRoute as sessionEventsContract } from '../../contracts/internal-routes.js';
import { runSubgraph, withPassword } from '../../foundation/service/subgraph-service.js';
import { changeFeedRoute } from '../../foundation/http/change-feed-route.js';
import { gatewayOnly } from '../../foundation/auth/identity.js';
import { loadKeySet, publicJwks, TokenSigner, watchKeySet } from '../../foundation/auth/tokens.js';
import { userMigrations } from '../../migrations/user/index.js';
import { createLoaders, type UserContext } from './api/context.js';
import { jwksRoute } from './api/routes.js';
import { buildUserSchema } from './api/schema.js';
import { EmailTokenRow, RefreshTokenRow, SessionEventRow, SessionRow, UserRow } from './store/entities.js';
import { PostgresSessionFeed } from './store/session-feed.js';
import { watchSessionFeed } from './metrics.js';
import { createAccountService, userSettingsSpec } from './settings.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = userSettingsSpec(root);
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup user subgraph');
if (settings.environment === 'production' && !settings.smtpUrl) {
  // Links written to a folder are for development: in production they would reach no one, or the wrong hands.
  process.stderr.write(
    'Fixup user subgraph: invalid settings\n  - SMTP_URL (--smtp-url): not set: production sends account mail through SMTP\n',
  );
  process.exit(2);
}

await runSubgraph<UserContext>({
  name: 'user',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [UserRow, SessionRow, RefreshTokenRow, EmailTokenRow, SessionEventRow],
  outbox: true,
  migrations: userMigrations,
  async wire(dataSource, logger, trust) {
    const keySource = {
      json: settings.jwtKeys,
      file: settings.jwtKeysFile,
      createIfMissing: settings.environment !== 'production',
    };
    let keys = await loadKeySet(keySource);
    const signer = await TokenSigner.create(keys);
    const unwatch = watchKeySet(
      keySource,
      settings.jwtKeysReloadSeconds * 1000,
      async (set) => {
        await signer.replace(set);
        keys = set;
        logger.info({ kids: set.keys.map((k) => k.kid) }, 'signing keys reloaded');
      },
      (err) => logger.error({ err }, 'signing keys not reloaded; the previous ones stay'),
    );
    const feed = new PostgresSessionFeed(
      dataSource,
      withPassword(settings.dbUrl, settings.dbPasswordFile),
      settings.jwtAccessTtlSeconds + 60,
      settings.feedKeepHours * 3600,
      logger,
    );
    await feed.start();
    watchSessionFeed(feed);
    const accounts = createAccountService(settings, dataSource, signer, feed, (err) =>
      logger.error({ err }, 'mail not sent'),
    );
    return {
      schema: await buildUserSchema(accounts),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(accounts) }),
      answerHeaders: (operation) => feed.answerHeaders(operation),
      routes: {
        'GET /.well-known/jwks.json': jwksRoute(() => publicJwks(keys)),
        [`GET ${sessionEventsContract.path}`]: changeFeedRoute(feed, (handle) => gatewayOnly(trust, handle)),
      },
      startup: async () => {
        if (settings.adminEmail && settings.adminPassword) {
          const outcome = await accounts.ensureAdmin(settings.adminEmail, settings.adminPassword);
          logger.info(
            { admin: settings.adminEmail, outcome },
            outcome === 'created' ? 'admin account created' : 'an admin account exists',
          );
        }
      },
      stop: async () => {
        unwatch();
        await accounts.settled();
        await feed.close();
      },
    };
  },
});
