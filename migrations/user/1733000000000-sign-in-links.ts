import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SignInLinks1733000000000 adds sign-in by mailed link (a third purpose of
 * mailed tokens) and what a user sees of their sessions: when each was last
 * used, and the address and user agent it was last used from.
 */
export class SignInLinks1733000000000 implements MigrationInterface {
  name = 'SignInLinks1733000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check`);
    await db.query(
      `ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check CHECK (purpose IN ('verify_email', 'reset_password', 'sign_in'))`,
    );
    await db.query(`ALTER TABLE sessions ADD COLUMN last_used_at timestamptz(3)`);
    await db.query(`UPDATE sessions SET last_used_at = created_at`);
    await db.query(
      `ALTER TABLE sessions ALTER COLUMN last_used_at SET NOT NULL, ALTER COLUMN last_used_at SET DEFAULT now()`,
    );
    await db.query(
      `ALTER TABLE sessions ADD COLUMN ip text CHECK (length(ip) <= 100), ADD COLUMN user_agent text CHECK (length(user_agent) <= 1000)`,
    );
    await db.query(
      `CREATE INDEX refresh_tokens_live_idx ON refresh_tokens (session_id, expires_at) WHERE used_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX refresh_tokens_live_idx`);
    await db.query(`ALTER TABLE sessions DROP COLUMN user_agent, DROP COLUMN ip, DROP COLUMN last_used_at`);
    await db.query(`DELETE FROM email_tokens WHERE purpose = 'sign_in'`);
    await db.query(`ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check`);
    await db.query(
      `ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check CHECK (purpose IN ('verify_email', 'reset_password'))`,
    );
  }
}
