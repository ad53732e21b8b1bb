import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '../../contracts/caller.js';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { nonNegativeIntSchema, positiveIntSchema, setting, type Settings } from '../../foundation/service/config.js';
import { EmailSender } from './mail.js';
import { Argon2Hasher, BoundedHasher } from './business/passwords.js';
import { subgraphSettings } from '../../foundation/service/subgraph-service.js';
import type { TokenSigner } from '../../foundation/auth/tokens.js';
import { AccountService, type SessionFeed } from './business/accounts.js';
import { PostgresAttemptLimiter } from './store/attempt-limiter.js';
import { PostgresUserStore } from './store/user-store.js';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

/**
 * userSettingsSpec is the user subgraph's whole configuration; its main and
 * the operator's command line read the same one.
 */
export function userSettingsSpec(root: string) {
  return {
    ...subgraphSettings('user', root),
    jwtIssuer: setting({
      env: 'USER_JWT_ISSUER',
      doc: 'iss of access tokens (the gateway must expect the same)',
      schema: z.string().min(1),
      fallback: ACCESS_TOKEN_ISSUER,
    }),
    jwtAudience: setting({
      env: 'USER_JWT_AUDIENCE',
      doc: 'aud of access tokens (the gateway must expect the same)',
      schema: z.string().min(1),
      fallback: ACCESS_TOKEN_AUDIENCE,
    }),
    jwtAccessTtlSeconds: setting({
      env: 'USER_JWT_ACCESS_TTL_SECONDS',
      doc: "lifetime of an access token (at most 86340: the session feed's events must outlive it, and are kept at least a day)",
      schema: positiveIntSchema.max(86_340),
      fallback: '900',
    }),
    feedKeepHours: setting({
      env: 'USER_FEED_KEEP_HOURS',
      doc: "how long the session feed's events are kept (older ones are deleted hourly); at least a day, more than an access token's lifetime",
      schema: positiveIntSchema.min(24).max(87_600),
      fallback: '168',
    }),
    jwtKeys: setting({
      env: 'USER_JWT_KEYS',
      doc: 'private Ed25519 JWK set as JSON ({"keys":[…]}): the first signs, all are published; wins over the file',
      schema: optionalText,
      secret: true,
    }),
    jwtKeysFile: setting({
      env: 'USER_JWT_KEYS_FILE',
      doc: 'file holding the private JWK set; outside production it is made on first start',
      schema: z.string().min(1),
      fallback: join(root, '.data', 'keys', 'user-jwt.jwks.json'),
    }),
    jwtKeysReloadSeconds: setting({
      env: 'USER_JWT_KEYS_RELOAD_SECONDS',
      doc: 'how often the key file is checked for a rotation (fixup keys rotate)',
      schema: positiveIntSchema,
      fallback: '10',
    }),
    refreshTokenTtlDays: setting({
      env: 'USER_REFRESH_TOKEN_TTL_DAYS',
      doc: 'lifetime of a refresh token',
      schema: positiveIntSchema,
      fallback: '30',
    }),
    verifyEmailTtlHours: setting({
      env: 'USER_VERIFY_EMAIL_TTL_HOURS',
      doc: 'lifetime of an email verification link',
      schema: positiveIntSchema,
      fallback: '48',
    }),
    resetPasswordTtlMinutes: setting({
      env: 'USER_RESET_PASSWORD_TTL_MINUTES',
      doc: 'lifetime of a password reset link',
      schema: positiveIntSchema,
      fallback: '60',
    }),
    signInLinkTtlMinutes: setting({
      env: 'USER_SIGN_IN_LINK_TTL_MINUTES',
      doc: 'lifetime of a mailed sign-in link',
      schema: positiveIntSchema,
      fallback: '15',
    }),
    appUrl: setting({
      env: 'USER_APP_URL',
      doc: 'where mailed links point (<url>/verify-email, <url>/reset-password, <url>/sign-in)',
      schema: z.url(),
      fallback: 'http://localhost:4000',
    }),
    mailFrom: setting({
      env: 'USER_MAIL_FROM',
      doc: 'sender of account mail',
      schema: z.string().min(3),
      fallback: 'Fixup <no-reply@fixup.local>',
    }),
    smtpUrl: setting({
      env: 'SMTP_URL',
      doc: 'SMTP server for account mail (smtp://user:pass@host:587); none: one .eml file per message in MAIL_DIR',
      schema: optionalText,
      secret: true,
    }),
    mailDir: setting({
      env: 'MAIL_DIR',
      doc: 'where .eml files go when SMTP_URL is not set',
      schema: z.string().min(1),
      fallback: join(root, '.data', 'mail'),
    }),
    rateLimitIp: setting({
      env: 'USER_RATE_LIMIT_IP',
      doc: 'attempts of each credential operation one address (an IPv6 /64) may make per window; logins count failures only',
      schema: positiveIntSchema,
      fallback: '100',
    }),
    rateLimitAccount: setting({
      env: 'USER_RATE_LIMIT_ACCOUNT',
      doc: 'failed logins on one account from one address, and attempts of the other credential operations on one account, per window',
      schema: positiveIntSchema,
      fallback: '10',
    }),
    rateLimitAccountCeiling: setting({
      env: 'USER_RATE_LIMIT_ACCOUNT_CEILING',
      doc: 'failed logins on one account from all addresses per window past which every login on it is slowed (never refused)',
      schema: positiveIntSchema,
      fallback: '100',
    }),
    loginSlowdownMs: setting({
      env: 'USER_LOGIN_SLOWDOWN_MS',
      doc: 'how long a login on an account past its ceiling waits before it is answered',
      schema: nonNegativeIntSchema,
      fallback: '1000',
    }),
    hashConcurrency: setting({
      env: 'USER_PASSWORD_HASH_CONCURRENCY',
      doc: 'password hashes one process runs at once (default: one fewer than the cores, at least one, so requests keep a core under a login flood)',
      schema: positiveIntSchema,
      fallback: String(Math.max(1, availableParallelism() - 1)),
    }),
    hashQueue: setting({
      env: 'USER_PASSWORD_HASH_QUEUE',
      doc: 'password hashes that may wait for a slot; past it the request is RATE_LIMITED',
      schema: nonNegativeIntSchema,
      fallback: '8',
    }),
    sessionMaxAgeDays: setting({
      env: 'USER_SESSION_MAX_AGE_DAYS',
      doc: 'absolute lifetime of a session: past it refreshing fails, however recently it was rotated',
      schema: positiveIntSchema,
      fallback: '30',
    }),
    rateLimitWindowSeconds: setting({
      env: 'USER_RATE_LIMIT_WINDOW_SECONDS',
      doc: "the rate limits' window",
      schema: positiveIntSchema,
      fallback: '900',
    }),
    adminEmail: setting({
      env: 'ADMIN_EMAIL',
      doc: 'admin account made at start when there is no admin (npm start sets a development one)',
      schema: optionalText,
    }),
    adminPassword: setting({
      env: 'ADMIN_PASSWORD',
      doc: 'password of that admin account',
      schema: optionalText,
      secret: true,
    }),
  };
}

/** UserSettings are the parsed settings of the user subgraph. */
export type UserSettings = Settings<ReturnType<typeof userSettingsSpec>>;

/**
 * createAccountService wires the account rules to their real parts (the
 * user database, argon2id, the signer, mail, the shared rate limits, the
 * session feed), the same for the service and for the command line.
 */
export function createAccountService(
  settings: UserSettings,
  dataSource: DataSource,
  signer: TokenSigner,
  feed: SessionFeed,
  onMailError: (err: unknown) => void,
): AccountService {
  const window = settings.rateLimitWindowSeconds;
  return new AccountService(
    new PostgresUserStore(dataSource),
    new BoundedHasher(new Argon2Hasher(), { concurrency: settings.hashConcurrency, queue: settings.hashQueue }),
    {
      issue: ({ userId, roles, tokenVersion, sessionId }) =>
        signer.sign(
          { roles, ver: tokenVersion, sid: sessionId },
          {
            issuer: settings.jwtIssuer,
            audience: settings.jwtAudience,
            subject: userId,
            ttlSeconds: settings.jwtAccessTtlSeconds,
          },
        ),
    },
    new EmailSender({ from: settings.mailFrom, smtpUrl: settings.smtpUrl, dir: settings.mailDir }),
    new PostgresAttemptLimiter(dataSource, {
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
      signInLinkTtlSeconds: settings.signInLinkTtlMinutes * 60,
      sessionMaxAgeSeconds: settings.sessionMaxAgeDays * 86_400,
      loginSlowdownMs: settings.loginSlowdownMs,
      appUrl: settings.appUrl.replace(/\/+$/, ''),
    },
    onMailError,
  );
}
