import type { Logger } from '../foundation/telemetry/logger.js';
import { orderFeedEventSchema, type OrderFeedEvent } from '../contracts/order-events.js';
import { gatewayHeaders } from '../foundation/auth/identity.js';
import { FeedFollower } from '../foundation/http/feed-follower.js';

/**
 * OrderFeed follows the order subgraph's change feed (contracts/order-events.ts) for the gateway's callers' cache: an
 * `order` event drops what the gateway keeps of that order for every caller (its status, and whether each may see it).
 * The gateway that served the mutation answers once this feed reached the mutation's events (read-your-writes,
 * ORDER_SEQ_HEADER).
 */
export class OrderFeed extends FeedFollower<OrderFeedEvent> {
  constructor(url: string, gatewayToken: () => Promise<string>, logger: Logger, silenceMs?: number) {
    super({
      name: 'order feed',
      url,
      credentials: () => gatewayHeaders(gatewayToken),
      schema: orderFeedEventSchema,
      logger,
      silenceMs,
    });
  }

  protected apply(e: OrderFeedEvent): void {
    if (e.kind !== 'order') return;
    this.changed('Order', e.orderId);
  }
}
