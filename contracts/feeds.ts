import { z } from 'zod';

/**
 * A change feed is how a subgraph tells every gateway, in order and at once, what changed in its database: GET on its
 * internal route (contracts/internal-routes.ts) answers server-sent events, each `id` the event's sequence number and
 * each `data` one event of the feed's schema; `event: synced` marks the end of the replay of what the follower missed
 * (`?after=` or Last-Event-ID), its data (feedSyncedSchema) the feed's position then, and a comment line comes every
 * FEED_HEARTBEAT_MS. A mutation that wrote events names the feed's sequence in an answer header (each feed its own),
 * and the gateway that made the request answers once its copy of that feed reached it (read-your-writes). A gateway
 * deployed before an event kind existed skips its events, so gateways are upgraded first.
 */

/**
 * FEED_HEARTBEAT_MS is how often a subgraph writes a comment line to each open feed stream; a gateway that hears
 * nothing for three of them takes the stream as lost and follows the feed again.
 */
export const FEED_HEARTBEAT_MS = 15_000;

/**
 * feedSyncedSchema is the data of a feed's `synced` event: seq is the feed's position when the replay ended, so a
 * follower that has seen no event yet (a new gateway, a feed without replay for new followers) knows where it is, and
 * resumes from there (`?after=`) when its stream is lost, missing nothing committed meanwhile.
 */
export const feedSyncedSchema = z.object({ seq: z.number().int().nonnegative() });
export type FeedSynced = z.infer<typeof feedSyncedSchema>;
