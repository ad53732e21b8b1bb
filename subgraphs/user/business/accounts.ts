import { createHash, randomBytes } from 'node:crypto';
import type { Caller, Viewer } from '../../../contracts/caller.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
} from '../../../foundation/core/errors.js';
import { newId } from '../../../foundation/core/ids.js';
import type { Page } from '../../../foundation/core/pagination.js';
import type {
  AccountTx,
  EmailTokenPurpose,
  Role,
  SessionInfo,
  User,
  UserPosition,
  UserStore,
  UserWithPassword,
} from './users.js';

/** PasswordHasher hashes and checks passwords (argon2id in production). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** full, when the hasher is bounded, says a hash asked for now would be refused. */
  readonly full?: boolean;
}

/** AccessTokenIssuer signs access tokens. */
export interface AccessTokenIssuer {
  issue(claims: {
    userId: string;
    roles: Role[];
    tokenVersion: number;
    sessionId: string;
  }): Promise<{ token: string; expiresAt: Date }>;
}

/** Mailer sends one plain-text email. */
export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>;
}

/** CredentialOperation names the operations that are rate limited per account and per IP. */
export type CredentialOperation =
  | 'login'
  | 'register'
  | 'refresh'
  | 'request_reset'
  | 'reset_password'
  | 'verify_email'
  | 'change_password'
  | 'request_link'
  | 'sign_in_link';

/** LoginAttempt is one login under way: whether to slow it, and how it ended. */
export interface LoginAttempt {
  /**
   * slowed is true when the account as a whole has failed too often: the answer waits, it is never refused for that.
   */
  slowed: boolean;
  failed(): Promise<void>;
  succeeded(): Promise<void>;
}

/** AttemptLimiter counts attempts and throws RateLimitedError past the limit. */
export interface AttemptLimiter {
  /** consume counts one attempt for the IP and, when given, the account; it throws RATE_LIMITED when either is over. */
  consume(operation: CredentialOperation, ip: string | null, account: string | null): Promise<void>;
  /**
   * beginLogin throws RATE_LIMITED when this address has failed too often on
   * this account, or too often at all; only failures end up counted.
   */
  beginLogin(ip: string | null, account: string): Promise<LoginAttempt>;
}

/** SessionFeed tells every gateway at once about stale tokens and ended sessions. */
export interface SessionFeed {
  publish(): Promise<void>;
}

/** AccountsOptions are the account rules' numbers and the frontend links go to. */
export interface AccountsOptions {
  refreshTokenTtlSeconds: number;
  verifyEmailTtlSeconds: number;
  resetPasswordTtlSeconds: number;
  signInLinkTtlSeconds: number;
  /**
   * sessionMaxAgeSeconds is a session's absolute lifetime: past it no refresh works, however recently it was rotated.
   */
  sessionMaxAgeSeconds: number;
  /** loginSlowdownMs is how long a login on an account past its failure ceiling waits before it is answered. */
  loginSlowdownMs: number;
  /**
   * appUrl is where mailed links point: `<appUrl>/verify-email?token=…`, `<appUrl>/reset-password?token=…`,
   * `<appUrl>/sign-in?token=…`.
   */
  appUrl: string;
}

/** Session tokens are what a sign-in, sign-up or refresh hands the client. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  user: User;
}

/** RegisterInput is a sign-up request. */
export interface RegisterInput {
  email: string;
  password: string;
  displayName: string;
  role: Role;
}

/** LiveSession is one of a user's live sessions, `current` when the caller's token belongs to it. */
export interface LiveSession extends SessionInfo {
  current: boolean;
}

/** ProfileChange is what updateProfile may change; undefined leaves a field alone, null clears avatarUrl. */
export interface ProfileChange {
  displayName?: string;
  avatarUrl?: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 256;

/** normalizeEmail is the one spelling of an address that Fixup stores and compares. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** hashToken is how a random token is stored: its SHA-256, never the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** MAX_EMAIL is the longest address there is (RFC 5321's path limit less its brackets). */
const MAX_EMAIL = 254;

function checkEmailLength(email: string, field: string): string {
  const normalized = normalizeEmail(email);
  if (normalized.length > MAX_EMAIL)
    throw new InvalidInputError(field, `${field} must be at most ${MAX_EMAIL} characters`);
  return normalized;
}

function checkEmail(email: string, field: string): string {
  const normalized = checkEmailLength(email, field);
  if (!EMAIL.test(normalized)) throw new InvalidInputError(field, `${field} is not a valid email address`);
  return normalized;
}

function checkPassword(password: string, field: string): string {
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new InvalidInputError(field, `${field} must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
  }
  return password;
}

function checkDisplayName(name: string, field: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 100)
    throw new InvalidInputError(field, `${field} must be 1 to 100 characters`);
  return trimmed;
}

function checkAvatarUrl(url: string, field: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(field, `${field} is not a URL`);
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || url.length > 2048) {
    throw new InvalidInputError(field, `${field} must be an http(s) URL of at most 2048 characters`);
  }
  return url;
}

/**
 * AccountService holds the rules of accounts and sessions: sign-up, sign-in,
 * refresh-token rotation with reuse detection, email verification, password
 * reset and change, profiles, and roles. Every change and its audit event are
 * written in one transaction.
 */
export class AccountService {
  private dummyHash: Promise<string> | undefined;
  /** pending holds sign-in link requests still being handled after their answer. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: AccessTokenIssuer,
    private readonly mailer: Mailer,
    private readonly limiter: AttemptLimiter,
    private readonly feed: SessionFeed,
    private readonly options: AccountsOptions,
    private readonly onMailError: (err: unknown) => void,
  ) {}

  /** register creates a customer or provider account, signs it in, and mails a verification link. */
  async register(input: RegisterInput, caller: Caller): Promise<SessionTokens> {
    const email = checkEmail(input.email, 'input.email');
    const password = checkPassword(input.password, 'input.password');
    const displayName = checkDisplayName(input.displayName, 'input.displayName');
    if (input.role !== 'CUSTOMER' && input.role !== 'PROVIDER') {
      throw new InvalidInputError('input.role', 'input.role must be CUSTOMER or PROVIDER');
    }
    await this.limiter.consume('register', caller.ip, email);
    const passwordHash = await this.hasher.hash(password);
    const verifyToken = randomToken();
    const { user, session, refreshToken } = await this.store.transaction(caller, async (tx) => {
      const user = await tx.insertUser({
        id: newId(),
        email,
        displayName,
        roles: [input.role],
        passwordHash,
        emailVerified: false,
      });
      await tx.insertEmailToken({
        id: newId(),
        userId: user.id,
        purpose: 'verify_email',
        hash: hashToken(verifyToken),
        expiresAt: new Date(Date.now() + this.options.verifyEmailTtlSeconds * 1000),
      });
      const { session, refreshToken } = await this.startSession(tx, user.id);
      await tx.record({
        action: 'user.registered',
        actorId: user.id,
        targetType: 'User',
        targetId: user.id,
        metadata: { role: input.role },
      });
      return { user, session, refreshToken };
    });
    this.mail(user.email, 'Confirm your email address for Fixup', [
      `Hello ${user.displayName},`,
      '',
      'Please confirm your email address by opening this link:',
      `${this.options.appUrl}/verify-email?token=${verifyToken}`,
      '',
      `The link works once and expires in ${Math.round(this.options.verifyEmailTtlSeconds / 3600)} hours.`,
    ]);
    return this.tokensFor(user, session, refreshToken);
  }

  /**
   * login checks the password. An unknown address and a wrong password give
   * the same answer after the same work (a hash is always checked).
   */
  async login(emailInput: string, password: string, caller: Caller): Promise<SessionTokens> {
    const email = checkEmailLength(emailInput, 'email');
    // A flood that fills the hashing queue is refused here, before it costs the database anything (the pool is every
    // request's).
    if (this.hasher.full) throw new RateLimitedError(1);
    const attempt = await this.limiter.beginLogin(caller.ip, email);
    if (attempt.slowed) await new Promise((resolve) => setTimeout(resolve, this.options.loginSlowdownMs));
    const user = await this.store.userByEmail(email);
    const hash = user?.passwordHash ?? (await this.dummy());
    let matches: boolean;
    try {
      matches = (await this.hasher.verify(hash, password.slice(0, MAX_PASSWORD))) && !!user?.passwordHash;
    } catch (err) {
      // Refused before any work (the hashing queue was full): not a failure of this account's password.
      await attempt.succeeded();
      throw err;
    }
    if (!user || !matches) {
      await attempt.failed();
      await this.store.recordAlone(caller, {
        action: 'auth.login_failed',
        actorId: user?.id ?? null,
        targetType: 'User',
        targetId: user?.id ?? null,
        metadata: { reason: user ? 'wrong_password' : 'unknown_email' },
      });
      throw new UnauthenticatedError('Invalid email or password');
    }
    await attempt.succeeded();
    const { session, refreshToken } = await this.store.transaction(caller, async (tx) => {
      const started = await this.startSession(tx, user.id);
      await tx.record({
        action: 'auth.login_succeeded',
        actorId: user.id,
        targetType: 'User',
        targetId: user.id,
        metadata: { sessionId: started.session },
      });
      return started;
    });
    return this.tokensFor(user, session, refreshToken);
  }

  /**
   * refresh trades a refresh token for a new pair. A token works once: a
   * second use (a replay, or a race) ends the whole session and is audited.
   */
  async refresh(refreshToken: string, caller: Caller): Promise<SessionTokens> {
    await this.limiter.consume('refresh', caller.ip, null);
    const outcome = await this.store.transaction(caller, async (tx) => {
      const record = await tx.refreshTokenByHash(hashToken(refreshToken), true);
      if (!record) return { kind: 'invalid' as const };
      const session = await tx.sessionById(record.sessionId, true);
      if (!session || session.revokedAt) return { kind: 'invalid' as const };
      if (record.usedAt) {
        await tx.revokeSession(session.id, session.userId);
        await tx.record({
          action: 'auth.refresh_reused',
          actorId: record.userId,
          targetType: 'Session',
          targetId: session.id,
          metadata: { tokenId: record.id },
        });
        return { kind: 'reused' as const };
      }
      if (record.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' as const };
      if (this.sessionEnd(session.createdAt) <= Date.now()) return { kind: 'invalid' as const };
      await tx.markRefreshTokenUsed(record.id);
      await tx.touchSession(session.id);
      const user = await tx.userById(record.userId, false);
      if (!user) return { kind: 'invalid' as const };
      const next = randomToken();
      await tx.insertRefreshToken({
        id: newId(),
        sessionId: session.id,
        userId: user.id,
        hash: hashToken(next),
        expiresAt: this.refreshExpiry(session.createdAt),
      });
      return { kind: 'ok' as const, user, session: session.id, refreshToken: next };
    });
    if (outcome.kind === 'reused') await this.feed.publish();
    if (outcome.kind !== 'ok') throw new UnauthenticatedError('Invalid or expired refresh token');
    return this.tokensFor(outcome.user, outcome.session, outcome.refreshToken);
  }

  /** logout ends the session the refresh token belongs to, which must be the caller's. */
  async logout(refreshToken: string, viewer: Viewer, caller: Caller): Promise<boolean> {
    const ended = await this.store.transaction(caller, async (tx) => {
      const record = await tx.refreshTokenByHash(hashToken(refreshToken), true);
      if (!record || record.userId !== viewer.id) return false;
      const session = await tx.sessionById(record.sessionId, true);
      if (!session || session.revokedAt) return false;
      await tx.revokeSession(session.id, session.userId);
      await tx.record({ action: 'auth.logout', actorId: viewer.id, targetType: 'Session', targetId: session.id });
      return true;
    });
    if (!ended) throw new InvalidInputError('refreshToken', 'refreshToken is not a live session of yours');
    await this.feed.publish();
    return true;
  }

  /** verifyEmail consumes a mailed verification token. */
  async verifyEmail(token: string, caller: Caller): Promise<User> {
    await this.limiter.consume('verify_email', caller.ip, null);
    return this.store.transaction(caller, async (tx) => {
      const record = await this.usableEmailToken(tx, token, 'verify_email');
      const user = await tx.updateUser(record.userId, { emailVerified: true });
      await tx.record({ action: 'user.email_verified', actorId: user.id, targetType: 'User', targetId: user.id });
      return user;
    });
  }

  /** requestPasswordReset mails a reset link when the address has an account; it answers the same either way. */
  async requestPasswordReset(emailInput: string, caller: Caller): Promise<boolean> {
    const email = checkEmailLength(emailInput, 'email');
    await this.limiter.consume('request_reset', caller.ip, email);
    const user = await this.store.userByEmail(email);
    if (!user) return true;
    const token = randomToken();
    await this.store.transaction(caller, async (tx) => {
      await tx.invalidateEmailTokens(user.id, 'reset_password');
      await tx.insertEmailToken({
        id: newId(),
        userId: user.id,
        purpose: 'reset_password',
        hash: hashToken(token),
        expiresAt: new Date(Date.now() + this.options.resetPasswordTtlSeconds * 1000),
      });
    });
    this.mail(user.email, 'Reset your Fixup password', [
      `Hello ${user.displayName},`,
      '',
      'Someone asked to reset the password of your Fixup account. If it was you, open this link:',
      `${this.options.appUrl}/reset-password?token=${token}`,
      '',
      `The link works once and expires in ${Math.round(this.options.resetPasswordTtlSeconds / 60)} minutes. If it was not you, ignore this email.`,
    ]);
    return true;
  }

  /** resetPassword sets a new password with a mailed token and ends every session of the user. */
  async resetPassword(token: string, newPassword: string, caller: Caller): Promise<boolean> {
    checkPassword(newPassword, 'newPassword');
    await this.limiter.consume('reset_password', caller.ip, null);
    // The token is checked before the costly hash, so that bad tokens cost nothing; it is checked again, locked, below.
    const found = await this.store.transaction(caller, (tx) =>
      tx.emailTokenByHash(hashToken(token), 'reset_password', false),
    );
    if (!found || found.usedAt || found.expiresAt.getTime() <= Date.now())
      throw new InvalidInputError('token', 'token is invalid, used or expired');
    const passwordHash = await this.hasher.hash(newPassword);
    await this.store.transaction(caller, async (tx) => {
      const record = await this.usableEmailToken(tx, token, 'reset_password');
      await tx.updateUser(record.userId, { passwordHash });
      await tx.revokeUserSessions(record.userId, null);
      await tx.bumpTokenVersion(record.userId);
      await tx.record({
        action: 'user.password_reset',
        actorId: record.userId,
        targetType: 'User',
        targetId: record.userId,
      });
    });
    await this.feed.publish();
    return true;
  }

  /** changePassword needs the current password; every other session of the user ends. */
  async changePassword(currentPassword: string, newPassword: string, viewer: Viewer, caller: Caller): Promise<boolean> {
    checkPassword(newPassword, 'newPassword');
    await this.limiter.consume('change_password', caller.ip, viewer.id);
    const user = await this.store.userWithPassword(viewer.id);
    if (!user) throw new UnauthenticatedError('This account no longer exists');
    const stored = user.passwordHash;
    if (!stored || !(await this.hasher.verify(stored, currentPassword.slice(0, MAX_PASSWORD)))) {
      throw new UnauthenticatedError('The current password is wrong');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.store.transaction(caller, async (tx) => {
      await tx.updateUser(viewer.id, { passwordHash });
      await tx.revokeUserSessions(viewer.id, viewer.sessionId);
      await tx.record({ action: 'user.password_changed', actorId: viewer.id, targetType: 'User', targetId: viewer.id });
    });
    await this.feed.publish();
    return true;
  }

  /**
   * requestSignInLink mails a single-use sign-in link when the address has an
   * account, voiding the older ones. The answer is `true` and does not wait for
   * anything that depends on the account (the look-up, the token, the mail run
   * after it), so neither its content nor its timing tells whether the address
   * has an account.
   */
  async requestSignInLink(emailInput: string, caller: Caller): Promise<boolean> {
    const email = checkEmail(emailInput, 'email');
    await this.limiter.consume('request_link', caller.ip, email);
    const work: Promise<void> = this.sendSignInLink(email, caller)
      .catch(this.onMailError)
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
    return true;
  }

  /** settled resolves when every sign-in link requested so far has been handled (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async sendSignInLink(email: string, caller: Caller): Promise<void> {
    const user = await this.store.userByEmail(email);
    if (!user) {
      await this.store.recordAlone(caller, {
        action: 'auth.link_requested',
        actorId: null,
        targetType: 'User',
        targetId: null,
        metadata: { account: false },
      });
      return;
    }
    const token = randomToken();
    await this.store.transaction(caller, async (tx) => {
      await tx.invalidateEmailTokens(user.id, 'sign_in');
      await tx.insertEmailToken({
        id: newId(),
        userId: user.id,
        purpose: 'sign_in',
        hash: hashToken(token),
        expiresAt: new Date(Date.now() + this.options.signInLinkTtlSeconds * 1000),
      });
      await tx.record({
        action: 'auth.link_requested',
        actorId: null,
        targetType: 'User',
        targetId: user.id,
        metadata: { account: true },
      });
    });
    await this.mailer.send({
      to: user.email,
      subject: 'Your Fixup sign-in link',
      text:
        [
          `Hello ${user.displayName},`,
          '',
          'Open this link to sign in to Fixup:',
          `${this.options.appUrl}/sign-in?token=${token}`,
          '',
          `The link works once and expires in ${Math.round(this.options.signInLinkTtlSeconds / 60)} minutes; asking for a new one voids it. If you did not ask for it, ignore this email.`,
        ].join('\n') + '\n',
    });
  }

  /**
   * signInWithLink trades a mailed sign-in token (once, within its lifetime)
   * for a session, exactly as login starts one, and marks the address verified:
   * whoever opened the link reads that mailbox.
   */
  async signInWithLink(token: string, caller: Caller): Promise<SessionTokens> {
    await this.limiter.consume('sign_in_link', caller.ip, null);
    const { user, session, refreshToken } = await this.store.transaction(caller, async (tx) => {
      const record = await this.usableEmailToken(tx, token, 'sign_in');
      let user: User | null = await tx.userById(record.userId, true);
      if (!user) throw new InvalidInputError('token', 'token is invalid, used or expired');
      if (!user.emailVerified) {
        user = await tx.updateUser(user.id, { emailVerified: true });
        await tx.record({
          action: 'user.email_verified',
          actorId: user.id,
          targetType: 'User',
          targetId: user.id,
          metadata: { by: 'sign_in_link' },
        });
      }
      const started = await this.startSession(tx, user.id);
      await tx.record({
        action: 'auth.link_signed_in',
        actorId: user.id,
        targetType: 'User',
        targetId: user.id,
        metadata: { sessionId: started.session },
      });
      return { user, ...started };
    });
    return this.tokensFor(user, session, refreshToken);
  }

  /** sessions lists the signed-in user's live sessions, marking the one their token belongs to. */
  async sessions(userId: string, viewer: Viewer): Promise<LiveSession[]> {
    const rows = await this.store.liveSessions(userId);
    return rows.map((s) => ({ ...s, current: s.id === viewer.sessionId }));
  }

  /**
   * revokeSession ends one of the caller's live sessions at once: its refresh
   * token stops working and every gateway refuses its access tokens. Someone
   * else's session, or one already ended, is NOT_FOUND.
   */
  async revokeSession(sessionId: string, viewer: Viewer, caller: Caller): Promise<boolean> {
    await this.store.transaction(caller, async (tx) => {
      const session = await tx.sessionById(sessionId, true);
      if (!session || session.userId !== viewer.id || session.revokedAt) throw new NotFoundError('Session', sessionId);
      await tx.revokeSession(session.id, session.userId);
      await tx.record({
        action: 'auth.session_revoked',
        actorId: viewer.id,
        targetType: 'Session',
        targetId: session.id,
      });
    });
    await this.feed.publish();
    return true;
  }

  /** revokeAllSessions ends every live session of an account (an operator's act, from the command line). */
  async revokeAllSessions(userId: string, caller: Caller): Promise<number> {
    const ended = await this.store.transaction(caller, async (tx) => {
      const user = await tx.userById(userId, true);
      if (!user) throw new NotFoundError('User', userId);
      const count = await tx.revokeUserSessions(userId, null);
      await tx.record({
        action: 'auth.session_revoked',
        actorId: null,
        targetType: 'User',
        targetId: userId,
        metadata: { sessions: count, by: 'operator' },
      });
      return count;
    });
    await this.feed.publish();
    return ended;
  }

  /** userByEmail finds an account by address, for operators. */
  async userByEmail(emailInput: string): Promise<User | null> {
    const user = await this.store.userByEmail(normalizeEmail(emailInput));
    if (!user) return null;
    const { passwordHash: _hash, ...plain } = user;
    return plain;
  }

  /** createAdmin makes an admin account, whatever admins exist (an operator's act). */
  async createAdmin(emailInput: string, password: string, displayName: string, caller: Caller): Promise<User> {
    const email = checkEmail(emailInput, 'email');
    checkPassword(password, 'password');
    const name = checkDisplayName(displayName, 'displayName');
    const passwordHash = await this.hasher.hash(password);
    return this.insertAdmin(caller, email, name, passwordHash, 'operator');
  }

  /** insertAdmin makes a verified admin account and audits it as registered by an operator or at startup. */
  private insertAdmin(caller: Caller, email: string, displayName: string, passwordHash: string, by: string) {
    return this.store.transaction(caller, async (tx) => {
      const user = await tx.insertUser({
        id: newId(),
        email,
        displayName,
        roles: ['ADMIN'],
        passwordHash,
        emailVerified: true,
      });
      await tx.record({
        action: 'user.registered',
        actorId: null,
        targetType: 'User',
        targetId: user.id,
        metadata: { role: 'ADMIN', by },
      });
      return user;
    });
  }

  /**
   * setRoleAsOperator gives or takes a role with the same rules as an admin's assignRole and revokeRole, the operator
   * acting.
   */
  setRoleAsOperator(userId: string, role: Role, change: 'assign' | 'revoke', caller: Caller): Promise<User> {
    return this.changeRoles(userId, role, change, null, caller);
  }

  /** updateProfile changes the caller's display name or avatar. */
  async updateProfile(change: ProfileChange, viewer: Viewer, caller: Caller): Promise<User> {
    const patch: ProfileChange = {};
    if (change.displayName !== undefined) patch.displayName = checkDisplayName(change.displayName, 'input.displayName');
    if (change.avatarUrl !== undefined)
      patch.avatarUrl =
        change.avatarUrl === null || change.avatarUrl === ''
          ? null
          : checkAvatarUrl(change.avatarUrl, 'input.avatarUrl');
    await this.me(viewer);
    const user = await this.store.transaction(caller, (tx) => tx.updateUser(viewer.id, patch));
    // Published before the answer, which names the feed's position: the gateway drops what it kept of this user first.
    await this.feed.publish();
    return user;
  }

  /** me is the signed-in user's own account. */
  async me(viewer: Viewer): Promise<User> {
    const [user] = await this.store.usersByIds([viewer.id]);
    if (!user) throw new UnauthenticatedError('This account no longer exists');
    return user;
  }

  /** users lists accounts newest first, for admins. */
  async users(first: number, after: UserPosition | undefined): Promise<Page<User>> {
    const rows = await this.store.listUsers(first, after);
    return { items: rows.slice(0, first), hasNextPage: rows.length > first, hasPreviousPage: after !== undefined };
  }

  /** usersByIds loads a batch of users (entity references, loaders). */
  usersByIds(ids: readonly string[]): Promise<User[]> {
    return this.store.usersByIds(ids);
  }

  /** assignRole gives a user a role; their older access tokens become stale at once. */
  assignRole(userId: string, role: Role, admin: Viewer, caller: Caller): Promise<User> {
    return this.changeRoles(userId, role, 'assign', admin.id, caller);
  }

  /** revokeRole takes a role away; the last admin cannot lose ADMIN. */
  revokeRole(userId: string, role: Role, admin: Viewer, caller: Caller): Promise<User> {
    return this.changeRoles(userId, role, 'revoke', admin.id, caller);
  }

  /**
   * ensureAdmin creates the given admin account when the system has no admin
   * at all (the development admin; in production only when configured).
   */
  async ensureAdmin(emailInput: string, password: string): Promise<'created' | 'exists'> {
    if (await this.store.anyAdmin()) return 'exists';
    const email = checkEmail(emailInput, 'ADMIN_EMAIL');
    checkPassword(password, 'ADMIN_PASSWORD');
    const passwordHash = await this.hasher.hash(password);
    const system: Caller = { viewer: null, ip: null, userAgent: 'fixup-user startup', requestId: 'startup' };
    await this.insertAdmin(system, email, 'Admin', passwordHash, 'startup');
    return 'created';
  }

  private async changeRoles(
    userId: string,
    role: Role,
    change: 'assign' | 'revoke',
    actorId: string | null,
    caller: Caller,
  ): Promise<User> {
    const user = await this.store.transaction(caller, async (tx) => {
      const target = await tx.userById(userId, true);
      if (!target) throw new NotFoundError('User', userId);
      const has = target.roles.includes(role);
      if (change === 'assign' && has) throw new ConflictError(`User already has the ${role} role`);
      if (change === 'revoke' && !has) throw new ConflictError(`User does not have the ${role} role`);
      if (change === 'revoke' && role === 'ADMIN' && (await tx.adminCount()) <= 1) {
        throw new ConflictError('The last admin cannot lose the ADMIN role');
      }
      const roles = change === 'assign' ? [...target.roles, role] : target.roles.filter((r) => r !== role);
      const updated = await tx.updateUser(userId, { roles });
      const tokenVersion = await tx.bumpTokenVersion(userId);
      await tx.record({
        action: change === 'assign' ? 'user.role_assigned' : 'user.role_revoked',
        actorId,
        targetType: 'User',
        targetId: userId,
        metadata: actorId ? { role } : { role, by: 'operator' },
      });
      return { ...updated, tokenVersion };
    });
    await this.feed.publish();
    return user;
  }

  private async startSession(tx: AccountTx, userId: string) {
    const session = await tx.createSession(userId);
    const refreshToken = randomToken();
    await tx.insertRefreshToken({
      id: newId(),
      sessionId: session.id,
      userId,
      hash: hashToken(refreshToken),
      expiresAt: this.refreshExpiry(new Date()),
    });
    return { session: session.id, refreshToken };
  }

  private async usableEmailToken(tx: AccountTx, token: string, purpose: EmailTokenPurpose) {
    const record = await tx.emailTokenByHash(hashToken(token), purpose, true);
    if (!record || record.usedAt || record.expiresAt.getTime() <= Date.now()) {
      throw new InvalidInputError('token', 'token is invalid, used or expired');
    }
    await tx.markEmailTokenUsed(record.id);
    return record;
  }

  /** refreshExpiry is a new refresh token's expiry: its own lifetime, never past the end of its session. */
  private refreshExpiry(sessionStart: Date): Date {
    return new Date(Math.min(Date.now() + this.options.refreshTokenTtlSeconds * 1000, this.sessionEnd(sessionStart)));
  }

  private sessionEnd(sessionStart: Date): number {
    return sessionStart.getTime() + this.options.sessionMaxAgeSeconds * 1000;
  }

  private async tokensFor(
    user: User | UserWithPassword,
    sessionId: string,
    refreshToken: string,
  ): Promise<SessionTokens> {
    const access = await this.tokens.issue({
      userId: user.id,
      roles: user.roles,
      tokenVersion: user.tokenVersion,
      sessionId,
    });
    const { passwordHash: _hash, ...plain } = user as UserWithPassword;
    return { accessToken: access.token, refreshToken, accessTokenExpiresAt: access.expiresAt, user: plain };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hasher.hash(randomToken());
    return this.dummyHash;
  }

  private mail(to: string, subject: string, lines: string[]): void {
    this.mailer.send({ to, subject, text: lines.join('\n') + '\n' }).catch(this.onMailError);
  }
}
