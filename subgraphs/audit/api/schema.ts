import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/core/ids.js';
import { withPermissions } from '../../../foundation/graphql/permissions.js';
import { buildFederatedSchema } from '../../../foundation/graphql/subgraph-schema.js';
import type { AuditLog } from '../business/audit-log.js';
import type { AuditContext } from './context.js';
import { auditPermissions } from './permissions.js';
import { AuditEventResolver } from './resolvers.js';

/**
 * buildAuditSchema builds the audit subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export async function buildAuditSchema(log?: AuditLog): Promise<GraphQLSchema> {
  const schema = await buildFederatedSchema<AuditContext>({
    resolvers: [AuditEventResolver],
    instances: log ? new Map<Function, object>([[AuditEventResolver, new AuditEventResolver(log)]]) : undefined,
    references: {
      // The audit log is for admins only, by reference too.
      AuditEvent: (ref, ctx) =>
        isId(ref.id) && ctx.caller.viewer?.roles.includes('ADMIN') ? ctx.loaders.event.load(ref.id) : null,
    },
  });
  return withPermissions(schema, auditPermissions);
}
