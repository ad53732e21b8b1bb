import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import { ConflictError } from '../../../foundation/core/errors.js';
import type { Caller } from '../../../contracts/caller.js';
import { newId } from '../../../foundation/core/ids.js';
import { recordAuditEvent } from '../../../foundation/events/outbox.js';
import { EntityReader, isUniqueViolation, returnedRows } from '../../../foundation/postgres/database.js';
import type {
  AccountTx,
  EmailTokenPurpose,
  EmailTokenRecord,
  NewUser,
  RefreshTokenRecord,
  Role,
  Session,
  SessionInfo,
  User,
  UserPatch,
  UserPosition,
  UserStore,
  UserWithPassword,
} from '../business/users.js';
import { EmailTokenRow, RefreshTokenRow, SessionRow, UserRow } from './entities.js';

/** SUBGRAPH names this subgraph in the audit events it records. */
const SUBGRAPH = 'user';

/** SESSION_EVENTS_LOCK serializes writers of session_events so that their sequence numbers commit in order. */
const SESSION_EVENTS_LOCK = 0x73657373; // "sess"

/** MAX_LISTED_SESSIONS bounds the list of a user's live sessions (each sign-in adds one; a user has a handful). */
const MAX_LISTED_SESSIONS = 100;

function clip(value: string | null, max: number): string | null {
  return value === null ? null : value.slice(0, max);
}

/** toUser converts a row to the business value, without the password hash. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    roles: row.roles as Role[],
    emailVerified: row.emailVerified,
    avatarUrl: row.avatarUrl,
    createdAt: row.createdAt,
    tokenVersion: row.tokenVersion,
  };
}

function toUserWithPassword(row: UserRow): UserWithPassword {
  return { ...toUser(row), passwordHash: row.passwordHash };
}

function toSession(row: SessionRow): Session {
  return { id: row.id, userId: row.userId, createdAt: row.createdAt, revokedAt: row.revokedAt };
}

class PostgresAccountTx implements AccountTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly caller: Caller,
  ) {}

  async insertUser(user: NewUser): Promise<User> {
    try {
      await this.manager.insert(UserRow, {
        id: user.id,
        email: user.email,
        displayName: user.displayName,
        roles: user.roles,
        passwordHash: user.passwordHash,
        emailVerified: user.emailVerified,
        tokenVersion: 0,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key'))
        throw new ConflictError('An account with this email already exists');
      throw err;
    }
    return toUser(await this.manager.findOneByOrFail(UserRow, { id: user.id }));
  }

  async userById(id: string, lock: boolean): Promise<UserWithPassword | null> {
    const row = await this.manager.findOne(UserRow, {
      where: { id },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row ? toUserWithPassword(row) : null;
  }

  async updateUser(id: string, patch: UserPatch): Promise<User> {
    const values: Partial<UserRow> = {};
    if (patch.displayName !== undefined) values.displayName = patch.displayName;
    if (patch.avatarUrl !== undefined) values.avatarUrl = patch.avatarUrl;
    if (patch.roles !== undefined) values.roles = patch.roles;
    if (patch.passwordHash !== undefined) values.passwordHash = patch.passwordHash;
    if (patch.emailVerified !== undefined) values.emailVerified = patch.emailVerified;
    if (Object.keys(values).length > 0) await this.manager.update(UserRow, { id }, values);
    // The gateways keep users' shared fields (contracts/shared-entities.ts) and drop them on this event.
    if (patch.displayName !== undefined || patch.avatarUrl !== undefined)
      await this.sessionEvent('profile', id, null, null);
    return toUser(await this.manager.findOneByOrFail(UserRow, { id }));
  }

  async bumpTokenVersion(userId: string): Promise<number> {
    const rows = returnedRows<{ token_version: number }>(
      await this.manager.query(
        `UPDATE users SET token_version = token_version + 1 WHERE id = $1 RETURNING token_version`,
        [userId],
      ),
    );
    const version = rows[0]!.token_version;
    await this.sessionEvent('user', userId, null, version);
    return version;
  }

  async adminCount(): Promise<number> {
    const rows: { n: number }[] = await this.manager.query(
      `SELECT count(*)::int AS n FROM users WHERE 'ADMIN' = ANY (roles)`,
    );
    return rows[0]!.n;
  }

  async createSession(userId: string): Promise<Session> {
    const id = newId();
    await this.manager.insert(SessionRow, {
      id,
      userId,
      revokedAt: null,
      ip: this.caller.ip,
      userAgent: clip(this.caller.userAgent, 1000),
    });
    return { id, userId, createdAt: new Date(), revokedAt: null };
  }

  async sessionById(id: string, lock: boolean): Promise<Session | null> {
    const row = await this.manager.findOne(SessionRow, {
      where: { id },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row ? toSession(row) : null;
  }

  async revokeSession(sessionId: string, userId: string): Promise<void> {
    await this.manager.update(SessionRow, { id: sessionId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    await this.sessionEvent('session', userId, sessionId, null);
  }

  async revokeUserSessions(userId: string, except: string | null): Promise<number> {
    const rows = returnedRows<{ id: string }>(
      await this.manager.query(
        `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING id`,
        [userId, except],
      ),
    );
    for (const row of rows) await this.sessionEvent('session', userId, row.id, null);
    return rows.length;
  }

  async touchSession(sessionId: string): Promise<void> {
    await this.manager.update(
      SessionRow,
      { id: sessionId },
      { lastUsedAt: () => 'now()', ip: this.caller.ip, userAgent: clip(this.caller.userAgent, 1000) },
    );
  }

  async insertRefreshToken(token: {
    id: string;
    sessionId: string;
    userId: string;
    hash: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.manager.insert(RefreshTokenRow, {
      id: token.id,
      sessionId: token.sessionId,
      userId: token.userId,
      tokenHash: token.hash,
      expiresAt: token.expiresAt,
      usedAt: null,
    });
  }

  async refreshTokenByHash(hash: string, lock: boolean): Promise<RefreshTokenRecord | null> {
    const row = await this.manager.findOne(RefreshTokenRow, {
      where: { tokenHash: hash },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row
      ? { id: row.id, sessionId: row.sessionId, userId: row.userId, expiresAt: row.expiresAt, usedAt: row.usedAt }
      : null;
  }

  async markRefreshTokenUsed(id: string): Promise<void> {
    await this.manager.update(RefreshTokenRow, { id }, { usedAt: () => 'now()' });
  }

  async insertEmailToken(token: {
    id: string;
    userId: string;
    purpose: EmailTokenPurpose;
    hash: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.manager.insert(EmailTokenRow, {
      id: token.id,
      userId: token.userId,
      purpose: token.purpose,
      tokenHash: token.hash,
      expiresAt: token.expiresAt,
      usedAt: null,
    });
  }

  async emailTokenByHash(hash: string, purpose: EmailTokenPurpose, lock: boolean): Promise<EmailTokenRecord | null> {
    const row = await this.manager.findOne(EmailTokenRow, {
      where: { tokenHash: hash, purpose },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row
      ? {
          id: row.id,
          userId: row.userId,
          purpose: row.purpose as EmailTokenPurpose,
          expiresAt: row.expiresAt,
          usedAt: row.usedAt,
        }
      : null;
  }

  async markEmailTokenUsed(id: string): Promise<void> {
    await this.manager.update(EmailTokenRow, { id }, { usedAt: () => 'now()' });
  }

  async invalidateEmailTokens(userId: string, purpose: EmailTokenPurpose): Promise<void> {
    await this.manager.update(EmailTokenRow, { userId, purpose, usedAt: IsNull() }, { usedAt: () => 'now()' });
  }

  async record(entry: AuditEntry): Promise<void> {
    await recordAuditEvent(this.manager, SUBGRAPH, entry, this.caller);
  }

  private async sessionEvent(
    kind: 'user' | 'session' | 'profile',
    userId: string,
    sessionId: string | null,
    version: number | null,
  ): Promise<void> {
    await this.manager.query(`SELECT pg_advisory_xact_lock($1)`, [SESSION_EVENTS_LOCK]);
    await this.manager.query(
      `INSERT INTO session_events (kind, user_id, session_id, token_version) VALUES ($1, $2, $3, $4)`,
      [kind, userId, sessionId, version],
    );
  }
}

/** PostgresUserStore is the user subgraph's storage on its own database. */
export class PostgresUserStore implements UserStore {
  private readonly users: EntityReader<UserRow>;

  constructor(private readonly dataSource: DataSource) {
    this.users = new EntityReader(dataSource, UserRow, 'u');
  }

  transaction<T>(caller: Caller, fn: (tx: AccountTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => fn(new PostgresAccountTx(manager, caller)));
  }

  async userByEmail(email: string): Promise<UserWithPassword | null> {
    const row = await this.dataSource
      .getRepository(UserRow)
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email)', { email })
      .getOne();
    return row ? toUserWithPassword(row) : null;
  }

  async userWithPassword(id: string): Promise<UserWithPassword | null> {
    const row = await this.dataSource.getRepository(UserRow).findOneBy({ id });
    return row ? toUserWithPassword(row) : null;
  }

  async usersByIds(ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return (await this.users.rows('WHERE u.id = ANY($1::uuid[])', [ids])).map(toUser);
  }

  async listUsers(limit: number, after: UserPosition | undefined): Promise<User[]> {
    const query = this.dataSource
      .getRepository(UserRow)
      .createQueryBuilder('u')
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id', 'DESC')
      .limit(limit + 1);
    if (after) query.where('(u.created_at, u.id) < (:at, :id)', { at: after.createdAt, id: after.id });
    return (await query.getMany()).map(toUser);
  }

  async anyAdmin(): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM users WHERE 'ADMIN' = ANY (roles) LIMIT 1`);
    return rows.length > 0;
  }

  async liveSessions(userId: string): Promise<SessionInfo[]> {
    const rows: { id: string; created_at: Date; last_used_at: Date; ip: string | null; user_agent: string | null }[] =
      await this.dataSource.query(
        `SELECT s.id, s.created_at, s.last_used_at, s.ip, s.user_agent FROM sessions s
       WHERE s.user_id = $1 AND s.revoked_at IS NULL
         AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id AND r.used_at IS NULL AND r.expires_at > now())
       ORDER BY s.last_used_at DESC, s.id DESC
       LIMIT ${MAX_LISTED_SESSIONS}`,
        [userId],
      );
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      ip: r.ip,
      userAgent: r.user_agent,
    }));
  }

  async recordAlone(caller: Caller, entry: AuditEntry): Promise<void> {
    await this.dataSource.transaction((manager) => recordAuditEvent(manager, SUBGRAPH, entry, caller));
  }
}
