import type { Logger } from '../foundation/telemetry/logger.js';
import { catalogFeedEventSchema, type CatalogFeedEvent } from '../contracts/catalog-events.js';
import { gatewayHeaders } from '../foundation/auth/identity.js';
import { FeedFollower } from '../foundation/http/feed-follower.js';

/**
 * CatalogFeed follows the catalog subgraph's change feed (contracts/catalog-events.ts) for the gateway's entity cache:
 * a `skills` event drops what the gateway keeps of that provider's `User.skills` and of that service (its
 * `providers`). The gateway that served the mutation answers once this feed reached the mutation's events
 * (read-your-writes, CATALOG_SEQ_HEADER).
 */
export class CatalogFeed extends FeedFollower<CatalogFeedEvent> {
  constructor(url: string, gatewayToken: () => Promise<string>, logger: Logger, silenceMs?: number) {
    super({
      name: 'catalog feed',
      url,
      credentials: () => gatewayHeaders(gatewayToken),
      schema: catalogFeedEventSchema,
      logger,
      silenceMs,
    });
  }

  protected apply(e: CatalogFeedEvent): void {
    if (e.kind !== 'skills') return;
    this.changed('User', e.providerId);
    this.changed('Service', e.serviceId);
  }
}
