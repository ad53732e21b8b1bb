import type { MigrationClass } from '../../foundation/postgres/database.js';
import { CreateAuditEvents1732300000000 } from './1732300000000-create-audit-events.js';
import { AuditHashChain1733000000000 } from './1733000000000-hash-chain.js';
import { AuditInsertAndReadOnly1734000000000 } from './1734000000000-insert-and-read-only.js';

/** auditMigrations lists the audit database's migrations in the order they run. */
export const auditMigrations: MigrationClass[] = [
  CreateAuditEvents1732300000000,
  AuditHashChain1733000000000,
  AuditInsertAndReadOnly1734000000000,
];
