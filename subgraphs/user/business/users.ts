import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import type { Caller, Role } from '../../../contracts/caller.js';

export { ROLES, type Role } from '../../../contracts/caller.js';

/** User is an account as the rest of the code sees it (never its password hash). */
export interface User {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  emailVerified: boolean;
  avatarUrl: string | null;
  createdAt: Date;
  /** tokenVersion goes up whenever the user's access tokens must stop working (a role change, a reset). */
  tokenVersion: number;
}

/** UserWithPassword is a user with the hash to check a password against. */
export interface UserWithPassword extends User {
  passwordHash: string | null;
}

/** NewUser is an account about to be created. */
export interface NewUser {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  passwordHash: string;
  emailVerified: boolean;
}

/** UserPatch is a change to an account's profile, roles or password. */
export interface UserPatch {
  displayName?: string;
  avatarUrl?: string | null;
  roles?: Role[];
  passwordHash?: string;
  emailVerified?: boolean;
}

/** Session is one login: the family of refresh tokens descended from it. */
export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** SessionInfo is a live session as its owner sees it: when it began and was last used, and from where. */
export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** RefreshTokenRecord is a stored refresh token (only its hash is stored). */
export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
}

/** EmailTokenPurpose is what a mailed token is for. */
export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'sign_in';

/** EmailTokenRecord is a stored single-use mailed token (only its hash is stored). */
export interface EmailTokenRecord {
  id: string;
  userId: string;
  purpose: EmailTokenPurpose;
  expiresAt: Date;
  usedAt: Date | null;
}

/** UserPosition is a place in the list of users, newest first. */
export interface UserPosition {
  createdAt: Date;
  id: string;
}

/**
 * AccountTx is what one transaction of the account store can do. Everything
 * done through it, audit events included, commits or rolls back together.
 */
export interface AccountTx {
  insertUser(user: NewUser): Promise<User>;
  userById(id: string, lock: boolean): Promise<UserWithPassword | null>;
  updateUser(id: string, patch: UserPatch): Promise<User>;
  /** bumpTokenVersion makes every access token the user holds stale, and tells the gateways. */
  bumpTokenVersion(userId: string): Promise<number>;
  adminCount(): Promise<number>;
  createSession(userId: string): Promise<Session>;
  sessionById(id: string, lock: boolean): Promise<Session | null>;
  /** revokeSession ends one session of a user and tells the gateways. */
  revokeSession(sessionId: string, userId: string): Promise<void>;
  /**
   * revokeUserSessions ends every live session of a user but `except`, tells the gateways, and says how many it ended.
   */
  revokeUserSessions(userId: string, except: string | null): Promise<number>;
  /** touchSession notes that a session was used just now, from the transaction's caller's address and user agent. */
  touchSession(sessionId: string): Promise<void>;
  insertRefreshToken(token: {
    id: string;
    sessionId: string;
    userId: string;
    hash: string;
    expiresAt: Date;
  }): Promise<void>;
  refreshTokenByHash(hash: string, lock: boolean): Promise<RefreshTokenRecord | null>;
  markRefreshTokenUsed(id: string): Promise<void>;
  insertEmailToken(token: {
    id: string;
    userId: string;
    purpose: EmailTokenPurpose;
    hash: string;
    expiresAt: Date;
  }): Promise<void>;
  emailTokenByHash(hash: string, purpose: EmailTokenPurpose, lock: boolean): Promise<EmailTokenRecord | null>;
  markEmailTokenUsed(id: string): Promise<void>;
  /** invalidateEmailTokens marks every unused token of that purpose used (a new one replaces them). */
  invalidateEmailTokens(userId: string, purpose: EmailTokenPurpose): Promise<void>;
  record(entry: AuditEntry): Promise<void>;
}

/** UserStore is the storage accounts need; the store layer implements it. */
export interface UserStore {
  /** transaction runs fn in one database transaction on behalf of caller (whose IP and agent go into audit events). */
  transaction<T>(caller: Caller, fn: (tx: AccountTx) => Promise<T>): Promise<T>;
  userByEmail(email: string): Promise<UserWithPassword | null>;
  userWithPassword(id: string): Promise<UserWithPassword | null>;
  usersByIds(ids: readonly string[]): Promise<User[]>;
  /** listUsers returns up to limit + 1 users after `after`, newest first. */
  listUsers(limit: number, after: UserPosition | undefined): Promise<User[]>;
  anyAdmin(): Promise<boolean>;
  /**
   * liveSessions lists a user's sessions that are not ended and still hold a usable refresh token, most recently used
   * first.
   */
  liveSessions(userId: string): Promise<SessionInfo[]>;
  /** recordAlone writes an audit event that goes with no change (a failed login). */
  recordAlone(caller: Caller, entry: AuditEntry): Promise<void>;
}
