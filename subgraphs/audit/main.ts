import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { loadSettings, maskSecrets } from '../../foundation/service/config.js';
import { auditIngestSecret, runSubgraph, subgraphSettings } from '../../foundation/service/subgraph-service.js';
import { auditMigrations } from '../../migrations/audit/index.js';
import { createLoaders, type AuditContext } from './api/context.js';
import { auditIngestRoute } from '../../contracts/internal-routes.js';
import { ingestRoute } from './api/ingest-route.js';
import { buildAuditSchema } from './api/schema.js';
import { AuditLog } from './business/audit-log.js';
import { PostgresAuditStore } from './store/audit-store.js';
import { AuditEventRow } from './store/entities.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = subgraphSettings('audit', root);
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup audit subgraph');

await runSubgraph<AuditContext>({
  name: 'audit',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [AuditEventRow],
  migrations: auditMigrations,
  async wire(dataSource) {
    const log = new AuditLog(new PostgresAuditStore(dataSource));
    return {
      schema: await buildAuditSchema(log),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(log) }),
      routes: { [`POST ${auditIngestRoute.path}`]: ingestRoute(log, auditIngestSecret(settings), 8 * 1024 * 1024) },
    };
  },
});
