import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SkillsByService1764547200000 orders each service's skills by when they were
 * added, so that the first providers of a service are an index range: a popular
 * service's page of providers no longer ranks every provider it has.
 */
export class SkillsByService1764547200000 implements MigrationInterface {
  name = 'SkillsByService1764547200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX skills_service_added_idx ON skills (service_id, created_at, provider_id)`);
    await db.query(`DROP INDEX skills_service_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX skills_service_idx ON skills (service_id, provider_id)`);
    await db.query(`DROP INDEX skills_service_added_idx`);
  }
}
