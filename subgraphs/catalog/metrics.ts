import { watchFeedSubscribers } from '../../foundation/telemetry/metrics.js';

/** watchCatalogFeed reports, at each scrape, how many followers (gateways, order instances) the catalog feed has. */
export function watchCatalogFeed(feed: { readonly subscriberCount: number }): void {
  watchFeedSubscribers(
    'fixup_catalog_feed_subscribers',
    "Followers of the catalog feed (providers' skills): gateways, and order instances that keep skills",
    feed,
  );
}
