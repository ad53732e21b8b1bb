import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTable } from '../../foundation/events/outbox.js';

/**
 * Sessions1732400000000 adds what sign-in needs: a token version per user,
 * sessions (refresh-token families), hashed refresh and mailed tokens, the
 * feed of session events the gateways follow, the rate limiter's counters,
 * and the outbox of audit events.
 */
export class Sessions1732400000000 implements MigrationInterface {
  name = 'Sessions1732400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
    await db.query(`ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz(3)`);
    await db.query(`CREATE INDEX users_created_idx ON users (created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX users_admin_idx ON users (id) WHERE 'ADMIN' = ANY (roles)`);
    await db.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await db.query(`CREATE INDEX sessions_live_idx ON sessions (user_id) WHERE revoked_at IS NULL`);
    await db.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id),
        user_id uuid NOT NULL REFERENCES users (id),
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await db.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);
    await db.query(`
      CREATE TABLE email_tokens (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id),
        purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await db.query(`CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose) WHERE used_at IS NULL`);
    await db.query(`
      CREATE TABLE session_events (
        seq bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('user', 'session')),
        user_id uuid NOT NULL,
        session_id uuid,
        token_version integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'user' AND token_version IS NOT NULL) OR (kind = 'session' AND session_id IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX session_events_created_idx ON session_events (created_at)`);
    await db.query(`
      CREATE FUNCTION session_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('session_events', NEW.seq::text);
        RETURN NEW;
      END
      $$`);
    await db.query(
      `CREATE TRIGGER session_events_notify AFTER INSERT ON session_events FOR EACH ROW EXECUTE FUNCTION session_events_notify()`,
    );
    await db.query(`
      CREATE TABLE rate_limits (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      )`);
    await createOutboxTable(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox, rate_limits, session_events, email_tokens, refresh_tokens, sessions`);
    await db.query(`DROP FUNCTION session_events_notify()`);
    await db.query(`DROP INDEX users_admin_idx, users_created_idx`);
    await db.query(`ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz`);
    await db.query(`ALTER TABLE users DROP COLUMN token_version`);
  }
}
