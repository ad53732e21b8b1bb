import { counter, gauge, watchFeedSubscribers } from '../../foundation/telemetry/metrics.js';
import type { SkillsOutcome } from './store/kept-skills.js';

const lookups = counter(
  'fixup_order_skills_lookups_total',
  "Look-ups of a provider's skills by where they were answered: kept (order's copy), read (catalog, then kept unless a change or an outage came meanwhile or the list is over 50), behind (catalog: the copy was behind the request's gateway or out of sync), unnamed (catalog: the request named no feed position)",
  ['outcome'],
);

/** skillsLooked counts one look-up of a provider's skills by its outcome. */
export function skillsLooked(outcome: SkillsOutcome): void {
  lookups.inc({ outcome });
}

/** watchKeptSkills reports, at each scrape, how many providers' skills order keeps and whether its feed is in sync. */
export function watchKeptSkills(kept: { readonly size: number; readonly isSynced: boolean }): void {
  gauge('fixup_order_kept_skills', "Providers whose skills order keeps on the catalog's feed", [], function () {
    this.set(kept.size);
  });
  gauge(
    'fixup_order_catalog_feed_synced',
    "Whether order's copy of the catalog's feed is in sync (1) or its look-ups go to catalog (0)",
    [],
    function () {
      this.set(kept.isSynced ? 1 : 0);
    },
  );
}

/** watchOrderFeed reports, at each scrape, how many followers (gateways) the order feed has. */
export function watchOrderFeed(feed: { readonly subscriberCount: number }): void {
  watchFeedSubscribers('fixup_order_feed_subscribers', "Followers of the order feed (orders' status): gateways", feed);
}
