import { z } from 'zod';

/**
 * sessionFeedEventSchema is one entry of the user subgraph's session feed, a
 * change feed (contracts/feeds.ts) at GET /internal/session-events: a user's
 * token version went up (`user`: their older access tokens are stale), a
 * session ended (`session`), or a user's shared fields
 * (contracts/shared-entities.ts: display name, avatar) changed (`profile`:
 * what a gateway keeps of them is dropped).
 */
export const sessionFeedEventSchema = z.object({
  seq: z.number().int(),
  kind: z.enum(['user', 'session', 'profile']),
  userId: z.string(),
  sessionId: z.string().nullable(),
  tokenVersion: z.number().int().nullable(),
  at: z.string(),
});
export type SessionFeedEvent = z.infer<typeof sessionFeedEventSchema>;

/**
 * SESSION_SEQ_HEADER is the user subgraph's answer header that names the feed's
 * sequence number once the request's own session events are published; the
 * gateway that made the request waits for its feed to reach it before it
 * answers the client (read-your-writes), and never forwards the header.
 */
export const SESSION_SEQ_HEADER = 'x-fixup-session-seq';
