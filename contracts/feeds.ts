import { z } from 'zod';

/**
 * A change feed is how a subgraph tells every follower (each gateway, and the subgraphs of FEED_FOLLOWERS), in order
 * and at once, what changed in its database: GET on its internal route (contracts/internal-routes.ts) answers
 * server-sent events, each `id` the event's sequence number and each `data` one event of the feed's schema;
 * `event: synced` marks the end of the replay of what the follower missed (`?after=` or Last-Event-ID), its data
 * (feedSyncedSchema) the feed's position then, and a comment line comes every FEED_HEARTBEAT_MS. A mutation that
 * wrote events names the feed's sequence in an answer header (each feed its own), and the gateway that made the
 * request answers once its copy of that feed reached it (read-your-writes). A follower deployed before an event kind
 * existed takes such an event as an outage (it drops what it kept on the feed's word), so followers are upgraded
 * first.
 */

/**
 * FEED_HEARTBEAT_MS is how often a subgraph writes a comment line to each open feed stream; a follower that hears
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

/**
 * FEED_FOLLOWERS names, per subgraph, the other subgraphs whose change feeds it follows to keep a copy of what they
 * own: order keeps providers' skills from the catalog's feed (contracts/catalog-events.ts), for `matchingOrders` and
 * for who may see an open order. A subgraph may follow a feed only where the feed's owner serves it to subgraphs.
 */
export const FEED_FOLLOWERS: Readonly<Record<string, readonly string[]>> = { order: ['catalog'] };

/**
 * FEED_POSITIONS_HEADER is the request header by which the gateway tells a subgraph of FEED_FOLLOWERS how far it knows
 * each followed feed to have come when it sent the request (its own copy's position, or a sequence an answer named
 * that its copy has not reached yet): `owner=seq` pairs separated by commas (`catalog=42`); a feed the gateway is out
 * of sync with is left out. The subgraph answers from its copy only where its copy is at least that far, and asks the
 * feed's owner otherwise. So a provider who changed their skills sees it on their next request through the gateway
 * that answered the change (it waited for its copy to reach the change first). A request without it (an internal
 * call, a gateway that follows no such feed) is answered by the owner.
 */
export const FEED_POSITIONS_HEADER = 'x-fixup-feed-positions';

/** MAX_FEED_POSITIONS_HEADER bounds the header's length; a longer one is ignored (the owner answers). */
export const MAX_FEED_POSITIONS_HEADER = 256;

/** formatFeedPositions writes FEED_POSITIONS_HEADER's value, leaving out feeds with no position yet. */
export function formatFeedPositions(positions: Readonly<Record<string, number | null>>): string | undefined {
  const pairs = Object.entries(positions)
    .filter(([, seq]) => seq !== null)
    .map(([owner, seq]) => `${owner}=${seq}`);
  return pairs.length > 0 ? pairs.join(',') : undefined;
}

/** parseFeedPositions reads FEED_POSITIONS_HEADER's value; malformed pairs are left out. */
export function parseFeedPositions(value: string | string[] | undefined): Record<string, number> | undefined {
  if (typeof value !== 'string' || value.length > MAX_FEED_POSITIONS_HEADER) return undefined;
  let out: Record<string, number> | undefined;
  for (const pair of value.split(',')) {
    const match = /^\s*([a-z][a-z0-9-]{0,39})=(\d{1,15})\s*$/.exec(pair);
    if (match) (out ??= Object.create(null) as Record<string, number>)[match[1]!] = Number(match[2]);
  }
  return out;
}
