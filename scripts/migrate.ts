// node dist/scripts/migrate.js --subgraph order: runs a subgraph's pending migrations and exits.
// Kubernetes runs it as a Job, as the subgraph's migrating role (whose sessions act as the database's owner), before
// the Deployment rolls out.
import { z } from 'zod';
import { loadSettings, setting } from '../foundation/service/config.js';
import { processSettings } from '../foundation/service/process.js';
import { createLogger } from '../foundation/telemetry/logger.js';
import { createDataSource, migrate, type MigrationClass } from '../foundation/postgres/database.js';
import { SUBGRAPHS } from './services.js';

const spec = {
  subgraph: setting({
    env: 'FIXUP_MIGRATE_SUBGRAPH',
    doc: `the subgraph whose database to migrate: ${SUBGRAPHS.map((s) => s.name).join(', ')}`,
    schema: z.enum(SUBGRAPHS.map((s) => s.name) as [string, ...string[]]),
    fallback: 'user',
  }),
  dbUrl: setting({
    env: 'FIXUP_MIGRATE_DB_URL',
    doc: "PostgreSQL URL of the subgraph's database, as its migrating role (fixup_<name>_migrator), which acts as the owner",
    schema: z.url(),
    fallback: 'postgres://fixup_user_migrator@127.0.0.1:54329/fixup_user',
  }),
  logLevel: processSettings().logLevel,
};
const settings = loadSettings(
  spec,
  process.argv.slice(2),
  process.env,
  "Fixup migrations: run one subgraph's pending migrations, then exit",
);
const logger = createLogger({ service: `${settings.subgraph}-migrate`, level: settings.logLevel });
const module = (await import(`../migrations/${settings.subgraph}/index.js`)) as Record<string, MigrationClass[]>;
const migrations = module[`${settings.subgraph}Migrations`]!;
const dataSource = createDataSource({
  url: settings.dbUrl,
  entities: [],
  migrations,
  logger,
  poolSize: 2, // migrate() holds one connection for its lock while the migrations run on another
  applicationName: `fixup-${settings.subgraph}-migrate`,
  statementTimeoutMs: 600_000,
});
try {
  await dataSource.initialize();
  const ran = await migrate(dataSource);
  logger.info({ migrations: ran }, ran.length > 0 ? 'migrations applied' : 'no pending migrations');
} catch (err) {
  logger.fatal({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  if (dataSource.isInitialized) await dataSource.destroy();
}
