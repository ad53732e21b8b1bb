import { timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { auditIngestRoute } from '../../../contracts/internal-routes.js';
import {
  answerUnread,
  BodyTooLargeError,
  readBody,
  sendJson,
  type RouteHandler,
} from '../../../foundation/http/server.js';
import type { AuditLog } from '../business/audit-log.js';
import { countIngest } from '../metrics.js';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * ingestRoute takes a batch of audit events from a subgraph's outbox relay:
 * POST /internal/audit-events with `Authorization: Bearer <AUDIT_INGEST_SECRET>`
 * and `{ "events": [...] }`. Each event is stored once, whatever the retries.
 */
export function ingestRoute(log: AuditLog, secret: string, bodyLimitBytes: number): RouteHandler {
  return async (req, res, scope) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ') || !sameSecret(header.slice(7), secret)) {
      scope.outcome = 'refused';
      return sendJson(res, 401, { error: 'a service secret is required' });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, bodyLimitBytes));
    } catch (err) {
      const answer = { error: 'the body must be JSON within the size limit' };
      // Past the limit the rest of the body is unread: it is dropped, and the connection closed, with the answer.
      if (err instanceof BodyTooLargeError) return answerUnread(req, res, 413, answer);
      return sendJson(res, 400, answer);
    }
    const parsed = auditIngestRoute.request.safeParse(body);
    if (!parsed.success)
      return sendJson(res, 400, {
        error: 'invalid events',
        issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
      });
    const events = parsed.data.events.map((e) => ({ ...e, occurredAt: new Date(e.occurredAt) }));
    const stored = await log.ingest(events);
    countIngest(events.length, stored);
    const reply: z.input<typeof auditIngestRoute.reply> = { received: events.length, stored };
    sendJson(res, 200, reply);
  };
}
