import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../contracts/audit.js';

/** AUDIT_CHAIN_GENESIS is the "previous hash" of the first event of the audit chain. */
export const AUDIT_CHAIN_GENESIS = '0'.repeat(64);

/** canonicalJson is JSON with object keys sorted at every depth, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * canonicalAuditContent is the one text form of an event's content: every
 * stored field in a fixed order, the time in UTC with milliseconds (as the
 * column keeps it), the metadata as canonical JSON (jsonb keeps no key order).
 */
export function canonicalAuditContent(event: AuditEvent): string {
  return canonicalJson([
    event.id,
    event.action,
    event.occurredAt.toISOString(),
    event.subgraph,
    event.actorId,
    event.targetType,
    event.targetId,
    event.ip,
    event.userAgent,
    event.traceId,
    event.metadata,
  ]);
}

/**
 * auditChainHash is an event's link in the chain: SHA-256 (hex) of the previous event's hash and this event's canonical
 * content.
 */
export function auditChainHash(previousHash: string, event: AuditEvent): string {
  return createHash('sha256').update(previousHash).update('\n').update(canonicalAuditContent(event)).digest('hex');
}
