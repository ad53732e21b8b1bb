import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { databaseUrl, dropDatabases, provisionDatabases, type DatabaseGrant } from './admin.js';
import { testDatabaseServer, uniqueName } from '../testkit/databases.js';

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('provisionDatabases', () => {
  let adminUrl: string;
  let grants: DatabaseGrant[];

  before(async () => {
    adminUrl = (await testDatabaseServer()).adminUrl;
    grants = ['one', 'two'].map((label) => {
      const name = uniqueName(label);
      return { database: name, role: name, password: randomBytes(9).toString('hex') };
    });
    await provisionDatabases(adminUrl, grants, { lockDownServer: false });
  });
  after(async () => {
    await dropDatabases(adminUrl, grants);
    await (await testDatabaseServer()).stop();
  });

  it('lets each role reach its own database and no other', async () => {
    const [one, two] = grants as [DatabaseGrant, DatabaseGrant];
    assert.equal(await canConnect(databaseUrl(adminUrl, one)), true);
    assert.equal(await canConnect(databaseUrl(adminUrl, two)), true);
    assert.equal(await canConnect(databaseUrl(adminUrl, { ...one, database: two.database })), false);
    assert.equal(await canConnect(databaseUrl(adminUrl, { ...two, database: one.database })), false);
  });

  it('is idempotent and keeps the password in step', async () => {
    const [one] = grants as [DatabaseGrant];
    const changed = { ...one, password: randomBytes(9).toString('hex') };
    await provisionDatabases(adminUrl, [changed], { lockDownServer: false });
    assert.equal(await canConnect(databaseUrl(adminUrl, changed)), true);
    assert.equal(await canConnect(databaseUrl(adminUrl, one)), false);
    grants[0] = changed;
  });

  it('gives roles no power to create databases or roles', async () => {
    const [one] = grants as [DatabaseGrant];
    const client = new pg.Client({ connectionString: databaseUrl(adminUrl, one) });
    await client.connect();
    try {
      await assert.rejects(client.query('CREATE DATABASE sneaky'), /permission denied/);
      await assert.rejects(client.query('CREATE ROLE sneaky'), /permission denied/);
    } finally {
      await client.end();
    }
  });
});
