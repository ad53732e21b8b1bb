import type DataLoader from 'dataloader';
import { byIdLoader } from '../../../foundation/graphql/loaders.js';
import type { CallerContext } from '../../../foundation/graphql/permissions.js';
import type { AuditEvent, AuditLog } from '../business/audit-log.js';

/** AuditLoaders batch the audit subgraph's look-ups within one request. */
export interface AuditLoaders {
  event: DataLoader<string, AuditEvent | null>;
}

/** AuditContext is the per-request GraphQL context of the audit subgraph. */
export interface AuditContext extends CallerContext {
  loaders: AuditLoaders;
}

/** createLoaders makes a request's loaders. */
export function createLoaders(log: AuditLog): AuditLoaders {
  return { event: byIdLoader('event', (ids) => log.eventsByIds(ids)) };
}
