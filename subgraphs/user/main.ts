import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions.js';
import { z } from 'zod';
import { loadSettings, maskSecrets, positiveIntSchema, setting } from '../../foundation/config.js';
import { EmailSender } from '../../foundation/mail.js';
import { Argon2Hasher, BoundedHasher } from '../../foundation/passwords.js';
import { runSubgraph, subgraphSettings } from '../../foundation/subgraph-service.js';
import { loadKeySet, publicJwks, TokenSigner } from '../../foundation/tokens.js';
import { userMigrations } from '../../migrations/user/index.js';
import { createLoaders, type UserContext } from './api/context.js';
import { jwksRoute, sessionEventsRoute } from './api/routes.js';
import { buildUserSchema } from './api/schema.js';
import { AccountService } from './business/accounts.js';
import { PostgresAttemptLimiter } from './store/attempt-limiter.js';
import { EmailTokenRow, RefreshTokenRow, SessionEventRow, SessionRow, UserRow } from './store/entities.js';
import { PostgresSessionFeed } from './store/session-feed.js';
import { PostgresUserStore } from './store/user-store.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const optionalText = z.string().optional().transform((v) => (v ? v : undefined));
const spec = {
  ...subgraphSettings('user', 4001, root),
  jwtIssuer: setting({ env: 'USER_JWT_ISSUER', doc: 'iss of access tokens (the gateway must expect the same)', schema: z.string().min(1), fallback: 'fixup-user' }),
  jwtAudience: setting({ env: 'USER_JWT_AUDIENCE', doc: 'aud of access tokens (the gateway must expect the same)', schema: z.string().min(1), fallback: 'fixup' }),
  jwtAccessTtlSeconds: setting({ env: 'USER_JWT_ACCESS_TTL_SECONDS', doc: 'lifetime of an access token', schema: positiveIntSchema, fallback: '900' }),
  jwtKeys: setting({ env: 'USER_JWT_KEYS', doc: 'private Ed25519 JWK set as JSON ({"keys":[…]}): the first signs, all are published; wins over the file', schema: optionalText, secret: true }),
  jwtKeysFile: setting({
    env: 'USER_JWT_KEYS_FILE',
    doc: 'file holding the private JWK set; outside production it is made on first start',
    schema: z.string().min(1),
    fallback: join(root, '.data', 'keys', 'user-jwt.jwks.json'),
  }),
  refreshTokenTtlDays: setting({ env: 'USER_REFRESH_TOKEN_TTL_DAYS', doc: 'lifetime of a refresh token', schema: positiveIntSchema, fallback: '30' }),
  verifyEmailTtlHours: setting({ env: 'USER_VERIFY_EMAIL_TTL_HOURS', doc: 'lifetime of an email verification link', schema: positiveIntSchema, fallback: '48' }),
  resetPasswordTtlMinutes: setting({ env: 'USER_RESET_PASSWORD_TTL_MINUTES', doc: 'lifetime of a password reset link', schema: positiveIntSchema, fallback: '60' }),
  appUrl: setting({ env: 'USER_APP_URL', doc: 'where mailed links point (<url>/verify-email, <url>/reset-password)', schema: z.url(), fallback: 'http://localhost:4000' }),
  mailFrom: setting({ env: 'USER_MAIL_FROM', doc: 'sender of account mail', schema: z.string().min(3), fallback: 'Fixup <no-reply@fixup.local>' }),
  smtpUrl: setting({ env: 'SMTP_URL', doc: 'SMTP server for account mail (smtp://user:pass@host:587); none: one .eml file per message in MAIL_DIR', schema: optionalText, secret: true }),
  mailDir: setting({ env: 'MAIL_DIR', doc: 'where .eml files go when SMTP_URL is not set', schema: z.string().min(1), fallback: join(root, '.data', 'mail') }),
  rateLimitIp: setting({ env: 'USER_RATE_LIMIT_IP', doc: 'attempts of each credential operation one address (an IPv6 /64) may make per window; logins count failures only', schema: positiveIntSchema, fallback: '100' }),
  rateLimitAccount: setting({ env: 'USER_RATE_LIMIT_ACCOUNT', doc: 'failed logins on one account from one address, and attempts of the other credential operations on one account, per window', schema: positiveIntSchema, fallback: '10' }),
  rateLimitAccountCeiling: setting({
    env: 'USER_RATE_LIMIT_ACCOUNT_CEILING',
    doc: 'failed logins on one account from all addresses per window past which every login on it is slowed (never refused)',
    schema: positiveIntSchema,
    fallback: '100',
  }),
  loginSlowdownMs: setting({ env: 'USER_LOGIN_SLOWDOWN_MS', doc: 'how long a login on an account past its ceiling waits before it is answered', schema: z.coerce.number().int().min(0), fallback: '1000' }),
  hashConcurrency: setting({
    env: 'USER_PASSWORD_HASH_CONCURRENCY',
    doc: 'password hashes one process runs at once',
    schema: positiveIntSchema,
    fallback: String(availableParallelism()),
  }),
  hashQueue: setting({ env: 'USER_PASSWORD_HASH_QUEUE', doc: 'password hashes that may wait for a slot; past it the request is RATE_LIMITED', schema: z.coerce.number().int().min(0), fallback: '8' }),
  sessionMaxAgeDays: setting({ env: 'USER_SESSION_MAX_AGE_DAYS', doc: 'absolute lifetime of a session: past it refreshing fails, however recently it was rotated', schema: positiveIntSchema, fallback: '30' }),
  rateLimitWindowSeconds: setting({ env: 'USER_RATE_LIMIT_WINDOW_SECONDS', doc: 'the rate limits\' window', schema: positiveIntSchema, fallback: '900' }),
  adminEmail: setting({ env: 'ADMIN_EMAIL', doc: 'admin account made at start when there is no admin (npm start sets a development one)', schema: optionalText }),
  adminPassword: setting({ env: 'ADMIN_PASSWORD', doc: 'password of that admin account', schema: optionalText, secret: true }),
};
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup user subgraph');
if (settings.environment === 'production' && !settings.smtpUrl) {
  // Links written to a folder are for development: in production they would reach no one, or the wrong hands.
  process.stderr.write('Fixup user subgraph: invalid settings\n  - SMTP_URL (--smtp-url): not set: production sends account mail through SMTP\n');
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
    const keys = await loadKeySet({ json: settings.jwtKeys, file: settings.jwtKeysFile, createIfMissing: settings.environment !== 'production' });
    const signer = await TokenSigner.create(keys);
    const feed = new PostgresSessionFeed(dataSource, (dataSource.options as PostgresConnectionOptions).url!, settings.jwtAccessTtlSeconds + 60, logger);
    await feed.start();
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    const window = settings.rateLimitWindowSeconds;
    const accounts = new AccountService(
      new PostgresUserStore(dataSource),
      new BoundedHasher(new Argon2Hasher(), { concurrency: settings.hashConcurrency, queue: settings.hashQueue }),
      {
        issue: ({ userId, roles, tokenVersion, sessionId }) =>
          signer.sign({ roles, ver: tokenVersion, sid: sessionId }, { issuer: settings.jwtIssuer, audience: settings.jwtAudience, subject: userId, ttlSeconds: settings.jwtAccessTtlSeconds }),
      },
      new EmailSender({ from: settings.mailFrom, smtpUrl: settings.smtpUrl, dir: settings.mailDir }),
      new PostgresAttemptLimiter(pool, {
        perAddress: { points: settings.rateLimitIp, windowSeconds: window },
        perAccount: { points: settings.rateLimitAccount, windowSeconds: window },
        perAccountAddress: { points: settings.rateLimitAccount, windowSeconds: window },
        accountCeiling: { points: settings.rateLimitAccountCeiling, windowSeconds: window },
      }),
      feed,
      {
        refreshTokenTtlSeconds: settings.refreshTokenTtlDays * 86_400,
        verifyEmailTtlSeconds: settings.verifyEmailTtlHours * 3600,
        resetPasswordTtlSeconds: settings.resetPasswordTtlMinutes * 60,
        sessionMaxAgeSeconds: settings.sessionMaxAgeDays * 86_400,
        loginSlowdownMs: settings.loginSlowdownMs,
        appUrl: settings.appUrl.replace(/\/+$/, ''),
      },
      (err) => logger.error({ err }, 'mail not sent'),
    );
    return {
      schema: await buildUserSchema(accounts),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(accounts) }),
      routes: {
        'GET /.well-known/jwks.json': jwksRoute(publicJwks(keys)),
        'GET /internal/session-events': sessionEventsRoute(feed, trust),
      },
      startup: async () => {
        if (settings.adminEmail && settings.adminPassword) {
          const outcome = await accounts.ensureAdmin(settings.adminEmail, settings.adminPassword);
          logger.info({ admin: settings.adminEmail, outcome }, outcome === 'created' ? 'admin account created' : 'an admin account exists');
        }
      },
      stop: () => feed.close(),
    };
  },
});
