import { z } from 'zod';

/**
 * sessionFeedEventSchema is one entry of the user subgraph's session feed, as
 * it travels to the gateways (GET /internal/session-events, server-sent
 * events): a user's token version went up (`user`: their older access tokens
 * are stale), a session ended (`session`), or a user's shared fields
 * (contracts/shared-entities.ts: display name, avatar) changed (`profile`:
 * what a gateway keeps of them is dropped). A gateway deployed before a kind
 * existed skips that kind's events, so gateways are upgraded first.
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

/**
 * SESSION_FEED_HEARTBEAT_MS is how often the user subgraph writes a comment line to each open feed stream; a gateway
 * that hears nothing for three of them takes the stream as lost and follows the feed again.
 */
export const SESSION_FEED_HEARTBEAT_MS = 15_000;
