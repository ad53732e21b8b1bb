import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTable } from '../../foundation/events/outbox.js';

/** Skills1732400000000 records which providers offer which services, and adds the outbox of audit events. */
export class Skills1732400000000 implements MigrationInterface {
  name = 'Skills1732400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE skills (
        provider_id uuid NOT NULL,
        service_id uuid NOT NULL REFERENCES services (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider_id, service_id)
      )`);
    await db.query(`CREATE INDEX skills_service_idx ON skills (service_id, provider_id)`);
    await createOutboxTable(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox, skills`);
  }
}
