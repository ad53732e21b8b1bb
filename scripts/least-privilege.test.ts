// Least privilege in every subgraph's database: the NOLOGIN owner owns every
// object and runs the migrations (through the migrating role); the runtime
// role changes rows and nothing else. Real PostgreSQL, real migrations.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { MigrationClass } from '../foundation/postgres/database.js';
import {
  adminQuery,
  databaseUrl,
  dropDatabases,
  migratorUrl,
  ownerRole,
  provisionDatabases,
  type DatabaseGrant,
} from '../foundation/postgres/admin.js';
import { createDataSource, migrate } from '../foundation/postgres/database.js';
import { createLogger } from '../foundation/telemetry/logger.js';
import {
  createTestDatabase,
  testDatabaseServer,
  uniqueName,
  type TestDatabase,
} from '../foundation/testkit/databases.js';
import { auditMigrations } from '../migrations/audit/index.js';
import { catalogMigrations } from '../migrations/catalog/index.js';
import { chatMigrations } from '../migrations/chat/index.js';
import { orderMigrations } from '../migrations/order/index.js';
import { userMigrations } from '../migrations/user/index.js';

const MIGRATIONS: Record<string, MigrationClass[]> = {
  user: userMigrations,
  catalog: catalogMigrations,
  order: orderMigrations,
  chat: chatMigrations,
  audit: auditMigrations,
};

const DENIED = /permission denied|must be owner|must be able to SET ROLE/;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function tablesOf(adminUrl: string, database: string): Promise<{ name: string; owner: string; kind: string }[]> {
  return adminQuery<{ name: string; owner: string; kind: string }>(
    adminUrl,
    database,
    `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'i', 'v') ORDER BY 1`,
  );
}

describe('least privilege in every database', () => {
  const opened: TestDatabase[] = [];
  after(async () => {
    for (const db of opened) await db.drop();
    await (await testDatabaseServer()).stop();
  });

  for (const [name, migrations] of Object.entries(MIGRATIONS)) {
    it(`${name}: the owner owns every object; the runtime role may not change the schema, grant, or touch triggers`, async () => {
      const db = await createTestDatabase(name, [], migrations);
      opened.push(db);
      const owner = ownerRole(db.grant);
      const tables = await tablesOf(db.adminUrl, db.grant.database);
      assert.ok(tables.length > 1, 'the migrations made tables');
      for (const t of tables) assert.equal(t.owner, owner, `${t.name} belongs to the owner`);
      const [dbOwner] = await adminQuery<{ owner: string }>(
        db.adminUrl,
        'postgres',
        `SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1`,
        [db.grant.database],
      );
      assert.equal(dbOwner!.owner, owner);
      const [login] = await adminQuery<{ rolcanlogin: boolean }>(
        db.adminUrl,
        'postgres',
        `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`,
        [owner],
      );
      assert.equal(login!.rolcanlogin, false, 'the owner cannot log in');

      const migrator = await connect(migratorUrl(db.adminUrl, db.grant));
      try {
        const { rows } = await migrator.query<{ current_user: string }>('SELECT current_user');
        assert.equal(rows[0]!.current_user, owner, "the migrating role's sessions act as the owner");
      } finally {
        await migrator.end();
      }

      const table = tables.find((t) => t.kind === 'r' && t.name !== 'typeorm_migrations')!.name;
      const runtime = await connect(databaseUrl(db.adminUrl, db.grant));
      try {
        const refused = [
          'CREATE TABLE sneaky (x int)',
          'CREATE SCHEMA sneaky',
          'CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
          `ALTER TABLE ${table} ADD COLUMN sneaky int`,
          `ALTER TABLE ${table} DISABLE TRIGGER ALL`,
          `ALTER TABLE ${table} OWNER TO CURRENT_USER`,
          `DROP TABLE ${table}`,
          `TRUNCATE ${table}`,
          `CREATE TRIGGER sneaky BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()`,
          `GRANT ${owner} TO CURRENT_USER`,
          `SET ROLE ${owner}`,
          `CREATE TEMP TABLE sneaky (x int)`,
          `INSERT INTO typeorm_migrations (timestamp, name) VALUES (1, 'Sneaky1')`,
          `DELETE FROM typeorm_migrations`,
          `UPDATE typeorm_migrations SET name = name`,
        ];
        for (const sql of refused) await assert.rejects(runtime.query(sql), DENIED, sql);
        // It holds no grant option: granting on it gives nothing (PostgreSQL only warns).
        await runtime.query(`GRANT SELECT ON ${table} TO PUBLIC`);
        const { rows: shared } = await runtime.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1::regclass AND a.grantee = 0`,
          [table],
        );
        assert.equal(shared[0]!.n, 0, 'PUBLIC was granted nothing');
        // It may read and write rows, and read which migrations ran (its readiness check).
        await runtime.query(`SELECT * FROM ${table} LIMIT 1`);
        await runtime.query(`SELECT name FROM typeorm_migrations LIMIT 1`);
      } finally {
        await runtime.end();
      }
    });
  }

  it('audit: the runtime role may INSERT and SELECT the audit log, never UPDATE, DELETE or TRUNCATE it', async () => {
    const db = opened.find((d) => d.grant.database.endsWith('_audit'))!;
    const runtime = await connect(databaseUrl(db.adminUrl, db.grant));
    try {
      for (const privilege of ['UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) {
        const { rows } = await runtime.query<{ has: boolean }>(
          `SELECT has_table_privilege('audit_events', $1) AS has`,
          [privilege],
        );
        assert.equal(rows[0]!.has, false, privilege);
      }
      for (const privilege of ['INSERT', 'SELECT']) {
        const { rows } = await runtime.query<{ has: boolean }>(
          `SELECT has_table_privilege('audit_events', $1) AS has`,
          [privilege],
        );
        assert.equal(rows[0]!.has, true, privilege);
      }
      // Refused by privilege, before the append-only trigger is reached.
      await assert.rejects(runtime.query(`UPDATE audit_events SET action = 'x'`), /permission denied/);
      await assert.rejects(runtime.query(`DELETE FROM audit_events`), /permission denied/);
      await assert.rejects(runtime.query(`TRUNCATE audit_events`), /permission denied/);
      await assert.rejects(runtime.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`), DENIED);
    } finally {
      await runtime.end();
    }
  });

  it('catalog: the runtime role may read and add services and categories, never change or remove them', async () => {
    const db = opened.find((d) => d.grant.database.endsWith('_catalog'))!;
    const runtime = await connect(databaseUrl(db.adminUrl, db.grant));
    try {
      for (const table of ['services', 'categories']) {
        for (const [privilege, held] of [
          ['SELECT', true],
          ['INSERT', true],
          ['UPDATE', false],
          ['DELETE', false],
          ['TRUNCATE', false],
        ] as const) {
          const { rows } = await runtime.query<{ has: boolean }>(`SELECT has_table_privilege($1, $2) AS has`, [
            table,
            privilege,
          ]);
          assert.equal(rows[0]!.has, held, `${privilege} on ${table}`);
        }
        await assert.rejects(runtime.query(`UPDATE ${table} SET name = name`), /permission denied/);
        await assert.rejects(runtime.query(`DELETE FROM ${table}`), /permission denied/);
      }
    } finally {
      await runtime.end();
    }
  });

  it("a subgraph's roles reach no other subgraph's database", async () => {
    const { adminUrl } = await testDatabaseServer();
    const [a, b] = ['reach_a', 'reach_b'].map((prefix) => {
      const name = uniqueName(prefix);
      return {
        database: name,
        role: name,
        password: randomBytes(9).toString('hex'),
        migratorPassword: randomBytes(9).toString('hex'),
      } satisfies DatabaseGrant;
    });
    await provisionDatabases(adminUrl, [a!, b!], { lockDownServer: false });
    try {
      // a's runtime and migrating roles, pointed at b's database.
      for (const url of [databaseUrl(adminUrl, a!), migratorUrl(adminUrl, a!)]) {
        const elsewhere = new URL(url);
        elsewhere.pathname = `/${b!.database}`;
        await assert.rejects(connect(elsewhere.toString()), /permission denied for database/);
      }
      // Each still reaches its own.
      const own = await connect(databaseUrl(adminUrl, a!));
      await own.end();
    } finally {
      await dropDatabases(adminUrl, [a!, b!]);
    }
  });

  it('moves a database made before the owner role existed to the owner, keeping the runtime role to the rows it had', async () => {
    const { adminUrl } = await testDatabaseServer();
    const name = uniqueName('legacy');
    const old: DatabaseGrant = { database: name, role: name, password: randomBytes(9).toString('hex') };
    await provisionDatabases(adminUrl, [old], { lockDownServer: false });
    const logger = createLogger({ service: 'test', level: 'silent' });
    // The old layout: the runtime role owns the database and runs the first two audit migrations itself.
    const legacy = createDataSource({
      url: databaseUrl(adminUrl, old),
      entities: [],
      migrations: auditMigrations.slice(0, 2),
      logger,
      poolSize: 2,
      applicationName: 'test',
      statementTimeoutMs: 60_000,
    });
    await legacy.initialize();
    await migrate(legacy);
    await legacy.destroy();
    const grant = { ...old, migratorPassword: randomBytes(9).toString('hex') };
    try {
      await provisionDatabases(adminUrl, [grant], { lockDownServer: false });
      const tables = await tablesOf(adminUrl, name);
      for (const t of tables) assert.equal(t.owner, ownerRole(grant), `${t.name} moved to the owner`);
      const owner = createDataSource({
        url: migratorUrl(adminUrl, grant),
        entities: [],
        migrations: auditMigrations,
        logger,
        poolSize: 2,
        applicationName: 'test',
        statementTimeoutMs: 60_000,
      });
      await owner.initialize();
      assert.deepEqual(await migrate(owner), ['AuditInsertAndReadOnly1734000000000']);
      await owner.destroy();
      const runtime = await connect(databaseUrl(adminUrl, grant));
      try {
        await runtime.query('SELECT count(*) FROM audit_events');
        await assert.rejects(runtime.query(`UPDATE audit_events SET action = 'x'`), /permission denied/);
        await assert.rejects(runtime.query(`ALTER TABLE audit_events DISABLE TRIGGER ALL`), DENIED);
        // Running it again changes nothing.
        await provisionDatabases(adminUrl, [grant], { lockDownServer: false });
        await assert.rejects(runtime.query(`DELETE FROM audit_events`), /permission denied/);
      } finally {
        await runtime.end();
      }
    } finally {
      await dropDatabases(adminUrl, [grant]);
    }
  });
});
