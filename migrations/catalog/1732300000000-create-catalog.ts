import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CreateCatalog1732300000000 creates categories and services, with a trigram index for search. */
export class CreateCatalog1732300000000 implements MigrationInterface {
  name = 'CreateCatalog1732300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await db.query(`
      CREATE TABLE categories (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX categories_name_key ON categories (lower(name))`);
    await db.query(`
      CREATE TABLE services (
        id uuid PRIMARY KEY,
        category_id uuid NOT NULL REFERENCES categories (id),
        name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
        description text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX services_category_name_key ON services (category_id, lower(name))`);
    await db.query(
      `CREATE INDEX services_search_idx ON services USING gin (lower(name || ' ' || description) gin_trgm_ops)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE services`);
    await db.query(`DROP TABLE categories`);
  }
}
