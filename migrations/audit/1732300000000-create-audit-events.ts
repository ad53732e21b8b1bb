import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CreateAuditEvents1732300000000 creates the append-only audit log: a trigger
 * refuses UPDATE, DELETE and TRUNCATE for everyone, and the service's own role
 * gives up those rights. Times keep milliseconds so that cursors are exact.
 */
export class CreateAuditEvents1732300000000 implements MigrationInterface {
  name = 'CreateAuditEvents1732300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY,
        action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
        occurred_at timestamptz(3) NOT NULL,
        subgraph text NOT NULL,
        actor_id uuid,
        target_type text,
        target_id text,
        ip text,
        user_agent text,
        trace_id text,
        metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX audit_events_time_idx ON audit_events (occurred_at DESC, id DESC)`);
    await db.query(`CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at DESC, id DESC)`);
    await db.query(`CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at DESC, id DESC)`);
    await db.query(
      `CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id, occurred_at DESC, id DESC)`,
    );
    await db.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await db.query(`
      CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await db.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
    await db.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM CURRENT_USER`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_events`);
    await db.query(`DROP FUNCTION audit_events_append_only()`);
  }
}
