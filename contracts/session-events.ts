import { z } from 'zod';

/**
 * sessionFeedEventSchema is one entry of the user subgraph's session feed, as
 * it travels to the gateways (GET /internal/session-events, server-sent
 * events): a user's token version went up (their older access tokens are
 * stale), or a session ended.
 */
export const sessionFeedEventSchema = z.object({
  seq: z.number().int(),
  kind: z.enum(['user', 'session']),
  userId: z.string(),
  sessionId: z.string().nullable(),
  tokenVersion: z.number().int().nullable(),
  at: z.string(),
});
export type SessionFeedEvent = z.infer<typeof sessionFeedEventSchema>;
