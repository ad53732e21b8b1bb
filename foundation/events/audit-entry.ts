/**
 * AuditEntry is a security-relevant action as business code states it. The
 * outbox adds the rest (id, time, subgraph, caller's IP and user agent, trace).
 */
export interface AuditEntry {
  action: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  metadata?: Record<string, unknown>;
}

const SECRET_KEY = /pass(word)?|token|secret|hash|authorization|cookie/i;

/** scrubMetadata drops every key that could hold a password or a token, at any depth. */
export function scrubMetadata(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) continue;
    out[key] = v && typeof v === 'object' && !Array.isArray(v) ? scrubMetadata(v as Record<string, unknown>) : v;
  }
  return out;
}
