import { z } from 'zod';

/**
 * orderFeedEventSchema is one entry of the order subgraph's feed, a change feed (contracts/feeds.ts) at GET
 * /internal/order-events: an order's status, or the offer it accepted, changed (`order`). What a gateway keeps of
 * that order for its callers (CALLER_ENTITY_CHANGES in contracts/shared-entities.ts: `Order.status`, and whether the
 * caller may see the order at all) is dropped. An order's customer and service never change once it is made.
 */
export const orderFeedEventSchema = z.object({
  seq: z.number().int(),
  kind: z.enum(['order']),
  orderId: z.string(),
  at: z.string(),
});
export type OrderFeedEvent = z.infer<typeof orderFeedEventSchema>;

/**
 * ORDER_SEQ_HEADER is the order subgraph's answer header that names its feed's sequence number once a mutation's
 * events are published; the gateway that made the request waits for its copy of the feed to reach it before it answers
 * the client (read-your-writes), and never forwards the header.
 */
export const ORDER_SEQ_HEADER = 'x-fixup-order-seq';
