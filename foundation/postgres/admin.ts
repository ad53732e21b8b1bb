import pg from 'pg';

/**
 * DatabaseGrant is one subgraph's private database and the roles that may
 * reach it. With migratorPassword (every subgraph) it has three roles: a
 * `NOLOGIN` owner `<role>_owner` that owns the database, its schema and every
 * object in it; a login role `<role>_migrator`, member of the owner, whose
 * sessions in this database act as the owner (`SET role`), which runs the
 * migrations; and the runtime login role `<role>`, which owns nothing and gets
 * only row privileges. Without it, `role` owns the database (a store that
 * makes its own tables, such as the gateway's shared rate limits).
 */
export interface DatabaseGrant {
  database: string;
  role: string;
  password: string;
  migratorPassword?: string;
}

/** ownerRole is the NOLOGIN role that owns a grant's database and objects. */
export function ownerRole(grant: Pick<DatabaseGrant, 'role'>): string {
  return `${grant.role}_owner`;
}

/** migratorRole is the login role that runs a grant's migrations as its owner. */
export function migratorRole(grant: Pick<DatabaseGrant, 'role'>): string {
  return `${grant.role}_migrator`;
}

/** ProvisionOptions says how much of the server Fixup owns. */
export interface ProvisionOptions {
  /**
   * lockDownServer also takes the default right to connect to the server's own
   * databases (postgres, template1) away from everyone: right for a server
   * Fixup owns (the embedded one), wrong for a shared one.
   */
  lockDownServer: boolean;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * provisionDatabases makes sure each grant's role and database exist, the
 * database owned by its role, and that no other role (but superusers) may
 * connect to it. It is idempotent and keeps role passwords in step with grants.
 */
export async function provisionDatabases(
  adminUrl: string,
  grants: DatabaseGrant[],
  options: ProvisionOptions,
): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const grant of grants) {
      const names = [
        grant.database,
        grant.role,
        ...(grant.migratorPassword !== undefined ? [ownerRole(grant), migratorRole(grant)] : []),
      ];
      if (!names.every((n) => IDENTIFIER.test(n))) {
        throw new Error(`invalid database or role name: ${names.join(' / ')}`);
      }
      await upsertRole(client, grant.role, 'LOGIN', grant.password);
      if (grant.migratorPassword === undefined) {
        await createDatabase(client, grant.database, grant.role);
        await exec(client, `SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', $1::text)`, [grant.database]);
        await exec(client, `SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', $1::text, $2::text)`, [
          grant.database,
          grant.role,
        ]);
        continue;
      }
      const owner = ownerRole(grant);
      const migrator = migratorRole(grant);
      await upsertRole(client, owner, 'NOLOGIN');
      await upsertRole(client, migrator, 'LOGIN', grant.migratorPassword);
      await exec(client, `SELECT format('GRANT %I TO %I', $1::text, $2::text)`, [owner, migrator]);
      await createDatabase(client, grant.database, owner);
      await exec(client, `SELECT format('ALTER DATABASE %I OWNER TO %I', $1::text, $2::text)`, [grant.database, owner]);
      await exec(client, `SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC, %I', $1::text, $2::text)`, [
        grant.database,
        grant.role,
      ]);
      await exec(client, `SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', $1::text, $2::text, $3::text)`, [
        grant.database,
        grant.role,
        migrator,
      ]);
      // Every session of the migrator in this database starts as the owner, so what the migrations create belongs to
      // the owner.
      await exec(client, `SELECT format('ALTER ROLE %I IN DATABASE %I SET role = %L', $1::text, $2::text, $3::text)`, [
        migrator,
        grant.database,
        owner,
      ]);
      await limitPrivileges(adminUrl, grant.database, owner, grant.role);
    }
    if (options.lockDownServer) {
      await client.query('REVOKE CONNECT ON DATABASE postgres FROM PUBLIC');
      await client.query('REVOKE CONNECT ON DATABASE template1 FROM PUBLIC');
    }
  } finally {
    await client.end();
  }
}

/** dropDatabases removes grants' databases and roles (tests clean up with it). */
export async function dropDatabases(adminUrl: string, grants: DatabaseGrant[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const grant of grants) {
      await exec(client, `SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text)`, [grant.database]);
      for (const role of [grant.role, migratorRole(grant), ownerRole(grant)]) {
        await exec(client, `SELECT format('DROP ROLE IF EXISTS %I', $1::text)`, [role]);
      }
    }
  } finally {
    await client.end();
  }
}

const ROLE_LIMITS = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS';

async function upsertRole(
  client: pg.Client,
  role: string,
  login: 'LOGIN' | 'NOLOGIN',
  password?: string,
): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const verb = found.rowCount === 0 ? 'CREATE' : 'ALTER';
  if (password === undefined) {
    await exec(client, `SELECT format('${verb} ROLE %I WITH ${login} ${ROLE_LIMITS} PASSWORD NULL', $1::text)`, [role]);
  } else {
    await exec(
      client,
      `SELECT format('${verb} ROLE %I WITH ${login} ${ROLE_LIMITS} PASSWORD %L', $1::text, $2::text)`,
      [role, password],
    );
  }
}

async function createDatabase(client: pg.Client, database: string, owner: string): Promise<void> {
  const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (db.rowCount === 0)
    await exec(client, `SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)`, [database, owner]);
}

const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/**
 * limitPrivileges, inside one database: hands whatever the runtime role owns
 * (databases made before the owner role existed) to the owner, keeping the
 * row privileges the runtime role had on each table; gives the schema to the
 * owner with nothing for PUBLIC; and makes the owner's future tables grant the
 * runtime role SELECT, INSERT, UPDATE and DELETE, its sequences USAGE and
 * SELECT (a migration narrows a table further, as audit's does), never
 * TRUNCATE, REFERENCES, TRIGGER or any DDL.
 */
async function limitPrivileges(adminUrl: string, database: string, owner: string, runtime: string): Promise<void> {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query('BEGIN');
    const owned = await client.query<{ name: string; kind: string; privileges: string[] }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind AS kind,
              ARRAY(SELECT p FROM unnest($2::text[]) AS p WHERE has_table_privilege($1, c.oid, p)) AS privileges
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')`,
      [runtime, [...TABLE_PRIVILEGES]],
    );
    await exec(client, `SELECT format('REASSIGN OWNED BY %I TO %I', $1::text, $2::text)`, [runtime, owner]);
    for (const rel of owned.rows) {
      const privileges = rel.kind === 'S' ? ['USAGE', 'SELECT'] : rel.privileges;
      if (privileges.length > 0)
        await client.query(
          `GRANT ${privileges.join(', ')} ON ${rel.kind === 'S' ? 'SEQUENCE ' : ''}${rel.name} TO ${quote(runtime)}`,
        );
    }
    const o = quote(owner);
    const r = quote(runtime);
    for (const statement of [
      `ALTER SCHEMA public OWNER TO ${o}`,
      `REVOKE ALL ON SCHEMA public FROM PUBLIC`,
      `GRANT USAGE ON SCHEMA public TO ${r}`,
      `REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC`,
      `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${r}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${r}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${r}`,
    ]) {
      await client.query(statement);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}

/** quote quotes an identifier already checked against IDENTIFIER. */
function quote(name: string): string {
  return `"${name}"`;
}

async function exec(client: pg.Client, formatQuery: string, values: unknown[]): Promise<void> {
  const { rows } = await client.query<{ format: string }>(formatQuery, values);
  await client.query(rows[0]!.format);
}

/** migratorUrl is the URL the grant's migrations run with: its database, as the migrator (acting as the owner). */
export function migratorUrl(adminUrl: string, grant: DatabaseGrant): string {
  if (grant.migratorPassword === undefined) return databaseUrl(adminUrl, grant);
  return databaseUrl(adminUrl, { ...grant, role: migratorRole(grant), password: grant.migratorPassword });
}

/** databaseUrl is the URL of one database on the server that adminUrl names, as the given role. */
export function databaseUrl(adminUrl: string, grant: DatabaseGrant): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(grant.role);
  url.password = encodeURIComponent(grant.password);
  url.pathname = '/' + grant.database;
  return url.toString();
}

/** adminQuery runs one statement as the server's superuser in the named database (tests, benchmarks and tools). */
export async function adminQuery<T = Record<string, unknown>>(
  adminUrl: string,
  database: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
