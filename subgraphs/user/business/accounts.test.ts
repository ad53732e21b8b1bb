import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Caller } from '../../../contracts/caller.js';
import { Argon2Hasher } from './passwords.js';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { userMigrations } from '../../../migrations/user/index.js';
import { PostgresAttemptLimiter } from '../store/attempt-limiter.js';
import { EmailTokenRow, RefreshTokenRow, SessionEventRow, SessionRow, UserRow } from '../store/entities.js';
import { PostgresUserStore } from '../store/user-store.js';
import { AccountService, type Mailer, type PasswordHasher } from './accounts.js';

/** CountingHasher is the real argon2id hasher, counting the hashes it makes. */
class CountingHasher implements PasswordHasher {
  hashes = 0;
  private readonly inner = new Argon2Hasher();
  hash(password: string): Promise<string> {
    this.hashes++;
    return this.inner.hash(password);
  }
  verify(stored: string, password: string): Promise<boolean> {
    return this.inner.verify(stored, password);
  }
}

/** KeptMail keeps the messages it is given, as a mail folder would. */
class KeptMail implements Mailer {
  readonly sent: { to: string; text: string }[] = [];
  async send(message: { to: string; subject: string; text: string }): Promise<void> {
    this.sent.push(message);
  }
}

const from = (ip: string): Caller => ({ viewer: null, ip, userAgent: 'test', requestId: randomUUID() });
const code = (err: unknown) => (err as { code?: string }).code;

describe('accounts under attack, on a real database', () => {
  let db: TestDatabase;
  let accounts: AccountService;
  let limiter: PostgresAttemptLimiter;
  const hasher = new CountingHasher();
  const mail = new KeptMail();
  const password = 'the right password';

  before(async () => {
    db = await createTestDatabase(
      'user',
      [UserRow, SessionRow, RefreshTokenRow, EmailTokenRow, SessionEventRow],
      userMigrations,
    );
    const window = 900;
    limiter = new PostgresAttemptLimiter(db.dataSource, {
      perAddress: { points: 100, windowSeconds: window },
      perAccount: { points: 10, windowSeconds: window },
      perAccountAddress: { points: 10, windowSeconds: window },
      accountCeiling: { points: 100, windowSeconds: window },
    });
    accounts = new AccountService(
      new PostgresUserStore(db.dataSource),
      hasher,
      { issue: async () => ({ token: 'access', expiresAt: new Date(Date.now() + 60_000) }) },
      mail,
      limiter,
      { publish: async () => {} },
      {
        refreshTokenTtlSeconds: 86_400,
        verifyEmailTtlSeconds: 3600,
        resetPasswordTtlSeconds: 3600,
        signInLinkTtlSeconds: 900,
        sessionMaxAgeSeconds: 30 * 86_400,
        loginSlowdownMs: 1,
        appUrl: 'http://app',
      },
      (err) => {
        throw err;
      },
    );
  });
  after(() => db.drop());

  const register = async (email = `u-${randomUUID()}@example.com`) => {
    await accounts.register({ email, password, displayName: 'U', role: 'CUSTOMER' }, from('192.0.2.200'));
    return email;
  };

  it("wrong passwords from strangers never lock the owner out: failures count per account and address, and past the account's ceiling logins are slowed, not refused", async () => {
    const email = await register();
    let refused = 0;
    // 110 wrong passwords from 11 addresses: each address is stopped after 10 failures on this account.
    for (let a = 0; a < 11; a++) {
      for (let i = 0; i < 11; i++) {
        try {
          await accounts.login(email, `wrong password ${i}`, from(`198.51.100.${a + 1}`));
          assert.fail('a wrong password signed in');
        } catch (err) {
          if (code(err) === 'RATE_LIMITED') refused++;
          else assert.equal(code(err), 'UNAUTHENTICATED');
        }
      }
    }
    assert.equal(refused, 11, 'the 11th attempt of each address on this account is refused');
    assert.equal((await limiter.beginLogin('203.0.113.9', email)).slowed, true, 'the account is past its ceiling');
    const signedIn = await accounts.login(email, password, from('203.0.113.9'));
    assert.equal(signedIn.user.email, email, 'the owner, from their own address, gets in');
    await assert.rejects(
      accounts.login(email, password, from('198.51.100.1')),
      (err) => code(err) === 'RATE_LIMITED',
      'the address that failed 10 times waits',
    );
  });

  it('a successful login is not counted against the address', async () => {
    const email = await register();
    for (let i = 0; i < 15; i++) await accounts.login(email, password, from('192.0.2.15'));
  });

  it('an IPv6 attacker is one address per /64', async () => {
    const email = await register();
    for (let i = 0; i < 10; i++)
      await assert.rejects(
        accounts.login(email, 'wrong password!', from(`2001:db8:1:2::${(i + 1).toString(16)}`)),
        (err) => code(err) === 'UNAUTHENTICATED',
      );
    await assert.rejects(
      accounts.login(email, 'wrong password!', from('2001:db8:1:2:ffff::1')),
      (err) => code(err) === 'RATE_LIMITED',
    );
    await assert.rejects(
      accounts.login(email, 'wrong password!', from('2001:db8:1:3::1')),
      (err) => code(err) === 'UNAUTHENTICATED',
      'another /64 is another address',
    );
  });

  it('a 10,000-character email is BAD_USER_INPUT, never an internal error', async () => {
    const huge = `${'a'.repeat(10_000)}@example.com`;
    for (const attempt of [
      () => accounts.login(huge, password, from('192.0.2.20')),
      () => accounts.requestPasswordReset(huge, from('192.0.2.20')),
      () => accounts.register({ email: huge, password, displayName: 'U', role: 'CUSTOMER' }, from('192.0.2.20')),
    ]) {
      await assert.rejects(
        attempt(),
        (err) =>
          code(err) === 'BAD_USER_INPUT' && (err as { details: { field: string } }).details.field.endsWith('email'),
      );
    }
    // Keys built from long input are hashed to fit the table.
    await limiter.consume('request_reset', '192.0.2.21', 'x'.repeat(10_000));
  });

  it('resetPassword checks the token before it hashes the new password', async () => {
    const before = hasher.hashes;
    await assert.rejects(
      accounts.resetPassword('not a token', 'a brand new password', from('192.0.2.30')),
      (err) => code(err) === 'BAD_USER_INPUT',
    );
    assert.equal(hasher.hashes, before, 'no hash for a bad token');
    const email = await register();
    await accounts.requestPasswordReset(email, from('192.0.2.30'));
    const token = /token=([\w-]+)/.exec(mail.sent.filter((m) => m.to === email).at(-1)!.text)![1]!;
    assert.equal(await accounts.resetPassword(token, 'a brand new password', from('192.0.2.30')), true);
    await assert.rejects(
      accounts.resetPassword(token, 'another new password', from('192.0.2.30')),
      (err) => code(err) === 'BAD_USER_INPUT',
      'once',
    );
    assert.equal((await accounts.login(email, 'a brand new password', from('192.0.2.30'))).user.email, email);
  });

  it('a session ends at its absolute lifetime, however recently it was refreshed', async () => {
    const email = await register();
    const first = await accounts.login(email, password, from('192.0.2.40'));
    const second = await accounts.refresh(first.refreshToken, from('192.0.2.40'));
    await db.dataSource.query(
      `UPDATE sessions SET created_at = now() - interval '30 days 1 minute' WHERE user_id = $1`,
      [second.user.id],
    );
    await assert.rejects(
      accounts.refresh(second.refreshToken, from('192.0.2.40')),
      (err) => code(err) === 'UNAUTHENTICATED',
    );
  });
});
