import { gauge } from '../../foundation/telemetry/metrics.js';

/** watchSessionFeed reports, at each scrape, how many gateways follow the session feed. */
export function watchSessionFeed(feed: { readonly subscriberCount: number }): void {
  gauge(
    'fixup_user_session_feed_subscribers',
    'Gateways following the session feed (stale tokens, ended sessions)',
    [],
    function () {
      this.set(feed.subscriberCount);
    },
  );
}
