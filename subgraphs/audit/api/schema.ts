import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/ids.js';
import { buildFederatedSchema } from '../../../foundation/subgraph.js';
import type { AuditLog } from '../business/audit-log.js';
import type { AuditContext } from './context.js';
import { AuditEventResolver } from './resolvers.js';

/**
 * buildAuditSchema builds the audit subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export function buildAuditSchema(log?: AuditLog): Promise<GraphQLSchema> {
  return buildFederatedSchema<AuditContext>({
    resolvers: [AuditEventResolver],
    instances: log ? new Map<Function, object>([[AuditEventResolver, new AuditEventResolver(log)]]) : undefined,
    references: {
      AuditEvent: (ref, ctx) => (isId(ref.id) ? ctx.loaders.event.load(ref.id) : null),
    },
  });
}
