import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { databaseUrl, migratorUrl } from '../foundation/postgres/admin.js';
import { startTestStack, type GraphQLResponse, type Session, type TestStack } from './harness.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const ME = `query { me { id roles } }`;

function code(res: GraphQLResponse): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the operator command line, against the real databases of a running stack', () => {
  let t: TestStack;
  let env: Record<string, string>;
  let customer: Session;

  /** fixup runs the command line as an operator would, with the stack's settings in its environment. */
  const fixup = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, ...env }, timeout: 60_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
      child.stdin!.end(input ?? '');
    });

  before(async () => {
    t = await startTestStack({
      USER_JWT_KEYS_RELOAD_SECONDS: '1',
      GATEWAY_INTERNAL_KEYS_RELOAD_SECONDS: '1',
      USER_OUTBOX_POLL_MS: '200',
    });
    const url = (name: string) => t.stack.services.find((s) => s.name === name)!.url.replace(/\/graphql$/, '');
    env = {
      AUDIT_INGEST_SECRET_FILE: join(t.dataDir, 'secrets', 'audit-ingest.secret'),
      USER_JWT_KEYS_FILE: join(t.dataDir, 'keys', 'user-jwt.jwks.json'),
      GATEWAY_INTERNAL_KEYS_FILE: join(t.dataDir, 'keys', 'gateway-internal.jwks.json'),
      MAIL_DIR: t.stack.mailDir,
      NODE_ENV: 'test',
    };
    for (const grant of t.stack.grants) {
      const name = grant.database.slice(t.prefix.length + 1);
      env[`${name.toUpperCase()}_DB_URL`] = databaseUrl(t.adminUrl, grant);
      env[`${name.toUpperCase()}_DB_MIGRATE_URL`] = migratorUrl(t.adminUrl, grant);
      env[`${name.toUpperCase()}_AUDIT_URL`] = url('audit');
    }
    customer = await t.register('CUSTOMER', 'Cleo');
  });
  after(async () => {
    await t?.stop();
  });

  it('has --help on every command, and answers a wrong command line with exit code 2', async () => {
    const overview = await fixup(['--help']);
    assert.equal(overview.code, 0);
    const commands = [...overview.stdout.matchAll(/^ {2}([a-z]+ [a-z-]+) {2,}/gm)].map((m) => m[1]!);
    assert.ok(commands.length >= 11, `commands listed: ${commands.join(', ')}`);
    for (const command of commands) {
      const help = await fixup([...command.split(' '), '--help']);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, new RegExp(`Usage: fixup ${command}`));
    }
    assert.equal((await fixup(['nonsense'])).code, 2);
    assert.equal((await fixup(['users', 'nonsense'])).code, 2);
    const missing = await fixup(['users', 'find']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--email is required/);
    assert.equal((await fixup(['users', 'find', '--email', 'x@example.com', '--user-db-pool-size', 'zero'])).code, 2);
    const unreachable = await fixup([
      'db',
      'status',
      '--subgraph',
      'user',
      '--user-db-url',
      'postgres://nobody@127.0.0.1:1/none',
    ]);
    assert.equal(unreachable.code, 3);
  });

  it('db status lists every applied migration and no pending one; db migrate has nothing to do', async () => {
    const status = await fixup(['db', 'status']);
    assert.equal(status.code, 0, status.stderr);
    for (const name of ['user', 'catalog', 'order', 'chat', 'audit'])
      assert.match(status.stdout, new RegExp(`^${name}:`, 'm'));
    assert.match(status.stdout, /applied {2}SignInLinks1733000000000/);
    assert.match(status.stdout, /applied {2}AuditHashChain1733000000000/);
    assert.match(status.stdout, /roles {4}\S+_audit_owner owns the database; \S+_audit \(the service\) owns nothing/);
    assert.doesNotMatch(status.stdout, /pending/);
    const migrate = await fixup(['db', 'migrate', '--subgraph', 'audit']);
    assert.equal(migrate.code, 0);
    assert.equal(migrate.stdout.trim(), 'audit: up to date');
  });

  it('admin create makes an admin who can sign in, through the business rules (a duplicate is refused)', async () => {
    const email = `ops-${randomUUID()}@example.com`;
    const created = await fixup(['admin', 'create', '--email', email, '--name', 'Ops'], 'an operator password\n');
    assert.equal(created.code, 0, created.stderr);
    const admin = await t.login(email, 'an operator password');
    assert.deepEqual((await t.gql(ME, {}, { token: admin.accessToken })).data?.me.roles, ['ADMIN']);
    const again = await fixup(['admin', 'create', '--email', email.toUpperCase()], 'an operator password\n');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const weak = await fixup(['admin', 'create', '--email', `weak-${email}`], 'short\n');
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /password must be/);
    const [row] = await t.sql(
      'user',
      `SELECT payload FROM outbox WHERE payload->>'action' = 'user.registered' AND payload->>'targetId' = $1`,
      [admin.id],
    );
    assert.equal(row.payload.metadata.by, 'operator');
    assert.match(row.payload.userAgent, /^fixup-cli \(/);
  });

  it('users find, set-role and revoke-sessions act at once on what the gateway accepts', async () => {
    const found = await fixup(['users', 'find', '--email', customer.email.toUpperCase()]);
    assert.equal(found.code, 0, found.stderr);
    assert.match(found.stdout, new RegExp(`id +${customer.id}`));
    assert.match(found.stdout, /live sessions +1/);
    assert.equal((await fixup(['users', 'find', '--email', `nobody-${randomUUID()}@example.com`])).code, 1);

    const set = await fixup(['users', 'set-role', '--email', customer.email, '--role', 'provider']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /roles are now CUSTOMER, PROVIDER/);
    assert.equal(code(await t.gql(ME, {}, { token: customer.accessToken })), 'SESSION_STALE');
    assert.equal(
      (await fixup(['users', 'set-role', '--email', customer.email, '--role', 'PROVIDER'])).code,
      1,
      'already has it',
    );
    assert.equal((await fixup(['users', 'set-role', '--email', customer.email, '--role', 'KING'])).code, 2);
    assert.equal(
      (await fixup(['users', 'set-role', '--email', customer.email, '--role', 'PROVIDER', '--revoke'])).code,
      0,
    );

    const session = await t.login(customer.email, customer.password);
    assert.equal((await t.gql(ME, {}, { token: session.accessToken })).data?.me.id, customer.id);
    const revoked = await fixup(['users', 'revoke-sessions', '--email', customer.email]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /2 sessions ended/);
    assert.equal(code(await t.gql(ME, {}, { token: session.accessToken })), 'UNAUTHENTICATED');
    const refreshed = await t.gql(`mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`, {
      r: session.refreshToken,
    });
    assert.equal(code(refreshed), 'UNAUTHENTICATED');
  });

  it('outbox status shows a backlog while audit is down, and outbox retry delivers it', async () => {
    await t.stack.stopService('audit');
    try {
      await t.login(customer.email, customer.password);
      const status = await fixup(['outbox', 'status']);
      assert.equal(status.code, 0, status.stderr);
      const userLine = status.stdout.split('\n').find((l) => l.startsWith('user '))!;
      assert.ok(Number(userLine.split(/\s+/)[1]) >= 1, userLine);
      const failed = await fixup(['outbox', 'retry', '--subgraph', 'user']);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /delivery failed/);
    } finally {
      await t.stack.startService('audit');
    }
    let pending = 1;
    for (let i = 0; i < 5 && pending > 0; i++) {
      const retried = await fixup(['outbox', 'retry']);
      assert.equal(retried.code, 0, retried.stderr);
      const status = await fixup(['outbox', 'status', '--subgraph', 'user']);
      pending = Number(
        status.stdout
          .split('\n')
          .find((l) => l.startsWith('user '))!
          .split(/\s+/)[1],
      );
    }
    assert.equal(pending, 0);
  });

  it('audit export writes the events of a time range as JSON lines with their links; audit verify holds, then names a row a superuser edited', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const exported = await fixup(['audit', 'export', '--from', from, '--to', to, '--format', 'jsonl']);
    assert.equal(exported.code, 0, exported.stderr);
    const events = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; hash: string; prevHash: string; action: string });
    assert.ok(events.length > 3);
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.seq > events[i - 1]!.seq);
    assert.ok(events.some((e) => e.action === 'user.registered'));
    assert.equal((await fixup(['audit', 'export', '--from', 'yesterday', '--to', to])).code, 2);
    assert.equal((await fixup(['audit', 'export', '--from', from, '--to', to, '--format', 'csv'])).code, 2);

    const holds = await fixup(['audit', 'verify']);
    assert.equal(holds.code, 0, holds.stdout + holds.stderr);
    assert.match(holds.stdout, /audit chain holds: \d+ events/);

    const target = events[Math.floor(events.length / 2)]!;
    const superuser = new pg.Client({ connectionString: new URL(`/${t.prefix}_audit`, t.adminUrl).toString() });
    await superuser.connect();
    try {
      await superuser.query(`SET session_replication_role = replica`);
      const [row] = (
        await superuser.query(`UPDATE audit_events SET ip = '203.0.113.66' WHERE chain_seq = $1 RETURNING id`, [
          target.seq,
        ])
      ).rows;
      const broken = await fixup(['audit', 'verify']);
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, new RegExp(`BROKEN at event #${target.seq} \\(id ${row.id}\\)`));
    } finally {
      await superuser.end();
    }
  });

  it('keys rotate publishes a new key, signs with it soon after, and keeps the old one verifying, with no restart', async () => {
    const jwks = async () =>
      (
        (await (
          await fetch(
            t.stack.services.find((s) => s.name === 'user')!.url.replace(/\/graphql$/, '/.well-known/jwks.json'),
          )
        ).json()) as { keys: { kid: string }[] }
      ).keys.map((k) => k.kid);
    const before = await t.login(customer.email, customer.password);
    const oldKid = decodeProtectedHeader(before.accessToken).kid!;
    const rotated = await fixup(['keys', 'rotate', '--for', 'user-tokens', '--activate-in-seconds', '3']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = /new key +(\S+):/.exec(rotated.stdout)![1]!;
    assert.match(rotated.stdout, new RegExp(`replaced key +${oldKid}: signs until then, verifies until`));
    const file = JSON.parse(readFileSync(env.USER_JWT_KEYS_FILE!, 'utf8')) as { keys: { kid: string }[] };
    assert.deepEqual(
      file.keys.map((k) => k.kid),
      [newKid, oldKid],
    );
    for (let i = 0; i < 60 && !(await jwks()).includes(newKid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await jwks()).sort(), [newKid, oldKid].sort(), 'published before it signs');
    await new Promise((r) => setTimeout(r, 3500));
    const afterRotation = await t.login(customer.email, customer.password);
    assert.equal(decodeProtectedHeader(afterRotation.accessToken).kid, newKid);
    assert.equal((await t.gql(ME, {}, { token: afterRotation.accessToken })).data?.me.id, customer.id);
    assert.equal(
      (await t.gql(ME, {}, { token: before.accessToken })).data?.me.id,
      customer.id,
      'a token of the old key still works',
    );

    const gateway = await fixup(['keys', 'rotate', '--for', 'gateway-internal', '--activate-in-seconds', '2']);
    assert.equal(gateway.code, 0, gateway.stderr);
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(
      (await t.gql(ME, {}, { token: afterRotation.accessToken })).data?.me.id,
      customer.id,
      'subgraphs accept the gateway token signed with its new key',
    );
    const inEnv = await fixup(['keys', 'rotate', '--for', 'user-tokens'], undefined);
    assert.equal(inEnv.code, 0);
    const given = await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'keys', 'rotate', '--for', 'user-tokens'],
        { env: { ...process.env, ...env, USER_JWT_KEYS: readFileSync(env.USER_JWT_KEYS_FILE!, 'utf8') } },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(given.code, 2);
    assert.match(given.stderr, /USER_JWT_KEYS/);
  });
});
