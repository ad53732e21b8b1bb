import { z } from 'zod';
import { idSchema } from './ids.js';

/** AUDIT_TOPIC is the outbox topic of audit events, delivered to the audit subgraph. */
export const AUDIT_TOPIC = 'audit';

/**
 * auditEventSchema is an audit event as it travels from a subgraph's outbox to
 * the audit log (POST /internal/audit-events): the time is an ISO 8601 string.
 */
export const auditEventSchema = z.object({
  id: idSchema,
  action: z.string().min(1).max(100),
  occurredAt: z.iso.datetime({ offset: true }),
  subgraph: z.string().min(1).max(50),
  actorId: idSchema.nullable(),
  targetType: z.string().max(100).nullable(),
  targetId: z.string().max(200).nullable(),
  ip: z.string().max(100).nullable(),
  userAgent: z.string().max(1000).nullable(),
  traceId: z.string().max(64).nullable(),
  metadata: z.record(z.string(), z.unknown()),
});

/** AuditEventMessage is the event on the wire and in the outbox. */
export type AuditEventMessage = z.infer<typeof auditEventSchema>;

/** AuditEvent is the event as the audit log keeps it, its time a Date: the content the audit chain's hash covers. */
export type AuditEvent = Omit<AuditEventMessage, 'occurredAt'> & { occurredAt: Date };
