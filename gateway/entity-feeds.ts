import type { z } from 'zod';
import type { Logger } from '../foundation/telemetry/logger.js';
import { catalogFeedEventSchema, type CatalogFeedEvent } from '../contracts/catalog-events.js';
import { orderFeedEventSchema, type OrderFeedEvent } from '../contracts/order-events.js';
import { gatewayHeaders } from '../foundation/auth/identity.js';
import { FeedFollower } from '../foundation/http/feed-follower.js';

/** EntityChange is one entity whose kept fields an event makes stale: its type and id. */
export type EntityChange = readonly [typename: string, id: string];

/**
 * EntityChangeFeed follows one subgraph's change feed (contracts/feeds.ts) for the gateway's caches: each event names
 * the entities it changed (changesOf), and their listeners drop what they kept of them. The gateway that served a
 * mutation answers once its follower reached the mutation's events (read-your-writes, FEED_SEQ_HEADERS).
 */
export class EntityChangeFeed<E extends { seq: number }> extends FeedFollower<E> {
  constructor(
    options: {
      name: string;
      url: string;
      schema: z.ZodType<E>;
      changesOf: (event: E) => readonly EntityChange[];
      gatewayToken: () => Promise<string>;
      logger: Logger;
      silenceMs?: number;
    },
    private readonly changesOf = options.changesOf,
  ) {
    super({
      name: options.name,
      url: options.url,
      credentials: () => gatewayHeaders(options.gatewayToken),
      schema: options.schema,
      logger: options.logger,
      silenceMs: options.silenceMs,
    });
  }

  protected apply(event: E): void {
    for (const [typename, id] of this.changesOf(event)) this.changed(typename, id);
  }
}

/**
 * catalogFeed follows the catalog's feed (contracts/catalog-events.ts): a `skills` event makes stale what the gateway
 * keeps of that provider's `User.skills` (and whether they may see an open order) and of that service's `providers`.
 */
export function catalogFeed(
  url: string,
  gatewayToken: () => Promise<string>,
  logger: Logger,
  silenceMs?: number,
): EntityChangeFeed<CatalogFeedEvent> {
  return new EntityChangeFeed({
    name: 'catalog feed',
    url,
    schema: catalogFeedEventSchema,
    changesOf: (e) =>
      e.kind === 'skills'
        ? [
            ['User', e.providerId],
            ['Service', e.serviceId],
          ]
        : [],
    gatewayToken,
    logger,
    silenceMs,
  });
}

/**
 * orderFeed follows the order subgraph's feed (contracts/order-events.ts): an `order` event makes stale what the
 * gateway keeps of that order for every caller (its status, and whether each may see it).
 */
export function orderFeed(
  url: string,
  gatewayToken: () => Promise<string>,
  logger: Logger,
  silenceMs?: number,
): EntityChangeFeed<OrderFeedEvent> {
  return new EntityChangeFeed({
    name: 'order feed',
    url,
    schema: orderFeedEventSchema,
    changesOf: (e) => (e.kind === 'order' ? [['Order', e.orderId]] : []),
    gatewayToken,
    logger,
    silenceMs,
  });
}
