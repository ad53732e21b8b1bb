import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AuditInsertAndReadOnly1734000000000 leaves every role but the table's owner
 * (who runs the migrations) only INSERT and SELECT on the audit log, whatever
 * default privileges gave them: the audit service's runtime role can append
 * and read, never change, delete, truncate, reference or add triggers.
 */
export class AuditInsertAndReadOnly1734000000000 implements MigrationInterface {
  name = 'AuditInsertAndReadOnly1734000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      DO $$
      DECLARE grantee text;
      BEGIN
        FOR grantee IN
          SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
          WHERE c.oid = 'audit_events'::regclass AND a.grantee <> c.relowner
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM %s', grantee);
        END LOOP;
      END
      $$`);
  }

  async down(): Promise<void> {
    // Nothing to undo: the rights it took away are ones no role should hold.
  }
}
