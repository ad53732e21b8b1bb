// Test support: a real PostgreSQL for each test file, never a mock.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '../postgres/embedded.js';
import { createLogger } from '../telemetry/logger.js';
import { createDataSource, migrate, type MigrationClass } from '../postgres/database.js';
import { databaseUrl, dropDatabases, migratorUrl, provisionDatabases, type DatabaseGrant } from '../postgres/admin.js';

/** TEST_ADMIN_URL_VARIABLE is how `npm test` tells each test file which PostgreSQL server to use. */
export const TEST_ADMIN_URL_VARIABLE = 'FIXUP_TEST_ADMIN_URL';

let server: Promise<{ adminUrl: string; stop(): Promise<void> }> | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * testDatabaseServer is the PostgreSQL server tests use: the one `npm test`
 * started (FIXUP_TEST_ADMIN_URL), or DATABASE_URL, or, when a test file runs
 * on its own, an embedded server of its own that stops when the process ends.
 */
export function testDatabaseServer(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  server ??= (async () => {
    const given = process.env[TEST_ADMIN_URL_VARIABLE] || process.env.DATABASE_URL;
    if (given) return { adminUrl: given, stop: async () => {} };
    const dir = mkdtempSync(join(tmpdir(), 'fixup-test-pg-'));
    // As root the server runs as the postgres user, who must be able to enter the folder.
    chmodSync(dir, 0o755);
    const running = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port: await freePort(),
      password: randomBytes(12).toString('hex'),
      persistent: false,
    });
    return {
      adminUrl: running.adminUrl,
      stop: async () => {
        await running.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  })();
  return server;
}

/** uniqueName makes a database or role name that no other test uses. */
export function uniqueName(label: string): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}_${label}`;
}

/** TestDatabase is a fresh database, migrated with the real migrations as its owner, reached as its runtime role. */
export interface TestDatabase {
  dataSource: DataSource;
  url: string;
  grant: DatabaseGrant;
  adminUrl: string;
  statements: string[];
  drop(): Promise<void>;
}

/** adminUrlOf is the server's admin URL, on the test's database: for what no role of the database may do. */
export function adminUrlOf(db: TestDatabase): string {
  const url = new URL(db.adminUrl);
  url.pathname = `/${db.grant.database}`;
  return url.toString();
}

/**
 * createTestDatabase makes a fresh database and its roles for one test file,
 * runs the given migrations on it as its owner, and opens a data source, as
 * the runtime role, that records each SQL statement it sends.
 */
export async function createTestDatabase(
  label: string,
  entities: Function[],
  migrations: MigrationClass[],
): Promise<TestDatabase> {
  const { adminUrl } = await testDatabaseServer();
  const name = uniqueName(label);
  const grant = {
    database: name,
    role: name,
    password: randomBytes(12).toString('hex'),
    migratorPassword: randomBytes(12).toString('hex'),
  };
  await provisionDatabases(adminUrl, [grant], { lockDownServer: false });
  const url = databaseUrl(adminUrl, grant);
  const owner = createDataSource({
    url: migratorUrl(adminUrl, grant),
    entities: [],
    migrations,
    logger: createLogger({ service: 'test', level: 'silent' }),
    poolSize: 2, // migrate() holds one connection for its lock while the migrations run on another
    applicationName: 'fixup-test-migrate',
    statementTimeoutMs: 60_000,
  });
  await owner.initialize();
  try {
    await migrate(owner);
  } finally {
    await owner.destroy();
  }
  const statements: string[] = [];
  const dataSource = createDataSource({
    url,
    entities,
    migrations,
    logger: createLogger({ service: 'test', level: 'silent' }),
    poolSize: 5,
    applicationName: 'fixup-test',
    statementTimeoutMs: 10_000,
    preparedStatements: 200, // as the services run: each parameterized statement a named prepared statement
    onStatement: (sql) => statements.push(sql),
  });
  await dataSource.initialize();
  return {
    dataSource,
    url,
    grant,
    adminUrl,
    statements,
    async drop() {
      await dataSource.destroy();
      await dropDatabases(adminUrl, [grant]);
      const own = await server;
      if (!process.env[TEST_ADMIN_URL_VARIABLE] && !process.env.DATABASE_URL) await own?.stop();
    },
  };
}
