import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CreateUsers1732300000000 creates accounts; emails are unique whatever their case. */
export class CreateUsers1732300000000 implements MigrationInterface {
  name = 'CreateUsers1732300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
        display_name text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 100),
        roles text[] NOT NULL DEFAULT '{}' CHECK (roles <@ ARRAY['CUSTOMER', 'PROVIDER', 'ADMIN']),
        email_verified boolean NOT NULL DEFAULT false,
        avatar_url text CHECK (length(avatar_url) <= 2048),
        password_hash text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE users`);
  }
}
