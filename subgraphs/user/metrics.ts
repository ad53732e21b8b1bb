import { watchFeedSubscribers } from '../../foundation/telemetry/metrics.js';

/** watchSessionFeed reports, at each scrape, how many gateways follow the session feed. */
export function watchSessionFeed(feed: { readonly subscriberCount: number }): void {
  watchFeedSubscribers(
    'fixup_user_session_feed_subscribers',
    'Gateways following the session feed (stale tokens, ended sessions)',
    feed,
  );
}
