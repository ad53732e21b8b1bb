import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** UserRow is a row of `users`. */
@Entity({ name: 'users' })
export class UserRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  email!: string;

  @Column('text', { name: 'display_name' })
  displayName!: string;

  @Column('text', { array: true })
  roles!: string[];

  @Column('boolean', { name: 'email_verified' })
  emailVerified!: boolean;

  @Column('text', { name: 'avatar_url', nullable: true })
  avatarUrl!: string | null;

  @Column('text', { name: 'password_hash', nullable: true })
  passwordHash!: string | null;

  @Column('integer', { name: 'token_version' })
  tokenVersion!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** SessionRow is a row of `sessions`: one login, the family of its refresh tokens. */
@Entity({ name: 'sessions' })
export class SessionRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'user_id' })
  userId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'last_used_at', precision: 3 })
  lastUsedAt!: Date;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;
}

/** StoredTokenColumns are the columns of every single-use token table: a hash, never the token. */
abstract class StoredTokenColumns {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'user_id' })
  userId!: string;

  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt!: Date | null;
}

/** RefreshTokenRow is a row of `refresh_tokens`. */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenRow extends StoredTokenColumns {
  @Column('uuid', { name: 'session_id' })
  sessionId!: string;
}

/** EmailTokenRow is a row of `email_tokens`. */
@Entity({ name: 'email_tokens' })
export class EmailTokenRow extends StoredTokenColumns {
  @Column('text')
  purpose!: string;
}

/** SessionEventRow is a row of `session_events`: what the gateways must know to refuse old tokens. */
@Entity({ name: 'session_events' })
export class SessionEventRow {
  @PrimaryColumn('bigint')
  seq!: string;

  @Column('text')
  kind!: 'user' | 'session' | 'profile';

  @Column('uuid', { name: 'user_id' })
  userId!: string;

  @Column('uuid', { name: 'session_id', nullable: true })
  sessionId!: string | null;

  @Column('integer', { name: 'token_version', nullable: true })
  tokenVersion!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
