import pg from 'pg';

/** DatabaseGrant is one subgraph's private database and the only role that may reach it. */
export interface DatabaseGrant {
  database: string;
  role: string;
  password: string;
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
export async function provisionDatabases(adminUrl: string, grants: DatabaseGrant[], options: ProvisionOptions): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const grant of grants) {
      if (!IDENTIFIER.test(grant.database) || !IDENTIFIER.test(grant.role)) {
        throw new Error(`invalid database or role name: ${grant.database} / ${grant.role}`);
      }
      const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [grant.role]);
      const verb = role.rowCount === 0 ? 'CREATE' : 'ALTER';
      await exec(
        client,
        `SELECT format('${verb} ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION PASSWORD %L', $1::text, $2::text)`,
        [grant.role, grant.password],
      );
      const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [grant.database]);
      if (db.rowCount === 0) {
        await exec(client, `SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)`, [grant.database, grant.role]);
      }
      await exec(client, `SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', $1::text)`, [grant.database]);
      await exec(client, `SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', $1::text, $2::text)`, [grant.database, grant.role]);
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
      await exec(client, `SELECT format('DROP ROLE IF EXISTS %I', $1::text)`, [grant.role]);
    }
  } finally {
    await client.end();
  }
}

async function exec(client: pg.Client, formatQuery: string, values: unknown[]): Promise<void> {
  const { rows } = await client.query<{ format: string }>(formatQuery, values);
  await client.query(rows[0]!.format);
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
export async function adminQuery<T = Record<string, unknown>>(adminUrl: string, database: string, text: string, values: unknown[] = []): Promise<T[]> {
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
