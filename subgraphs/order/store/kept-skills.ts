import { catalogFeedEventSchema, type CatalogFeedEvent } from '../../../contracts/catalog-events.js';
import { FeedFollower } from '../../../foundation/http/feed-follower.js';
import { serviceHeaders, type ServiceCredentials } from '../../../foundation/http/internal-calls.js';
import type { Logger } from '../../../foundation/telemetry/logger.js';

/** SkillsOutcome says where one look-up of a provider's skills was answered: the copy, or catalog and why. */
export type SkillsOutcome = 'kept' | 'read' | 'behind' | 'unnamed';

/** MAX_KEPT_SKILLS bounds one kept entry: a provider with more skills is asked of catalog every time. */
export const MAX_KEPT_SKILLS = 50;

/**
 * KeptSkills keeps providers' skills (the ids of the services each offers), as catalog answered them, and follows the
 * catalog's change feed (contracts/catalog-events.ts) to drop a provider's the moment they change. It answers a
 * request from its copy only when the copy is in sync and at least as far as the gateway knew the feed to be when
 * it sent the request (the caller's feedPositions, contracts/feeds.ts): a provider who changed their skills sees the
 * change on their next request, since the gateway that answered the change waited for its copy first. Otherwise
 * catalog answers, as it does without a copy. Nothing read from catalog is kept if an event for that provider, or an
 * outage of the feed, came while it was read; an outage drops the whole copy.
 */
export class KeptSkills extends FeedFollower<CatalogFeedEvent> {
  private readonly kept = new Map<string, readonly string[]>();
  /** reading marks the reads from catalog in flight, by provider: an event for the provider unmarks them. */
  private readonly reading = new Map<string, object>();
  private outagesSeen = 0;

  constructor(
    url: string,
    credentials: ServiceCredentials,
    private readonly maxProviders: number,
    logger: Logger,
    private readonly looked: (outcome: SkillsOutcome) => void = () => {},
    silenceMs?: number,
  ) {
    super({
      name: 'catalog feed',
      url,
      credentials: async () => serviceHeaders(credentials),
      schema: catalogFeedEventSchema,
      logger,
      silenceMs,
    });
  }

  protected apply(e: CatalogFeedEvent): void {
    if (e.kind !== 'skills') return;
    this.kept.delete(e.providerId);
    this.reading.delete(e.providerId);
  }

  /** size is how many providers' skills are kept. */
  get size(): number {
    this.afterOutage();
    return this.kept.size;
  }

  /** afterOutage drops the copy once the feed was lost: any change may have been missed meanwhile. */
  private afterOutage(): void {
    if (this.outages === this.outagesSeen) return;
    this.kept.clear();
    this.reading.clear();
    this.outagesSeen = this.outages;
  }

  /**
   * skillsOf answers a provider's skills from the copy where it may (see the class), and otherwise with read (catalog),
   * keeping that answer when nothing may have changed it meanwhile. atLeast is the catalog feed's position the
   * request's gateway had reached; without it, catalog answers.
   */
  async skillsOf(
    providerId: string,
    atLeast: number | undefined,
    read: () => Promise<readonly string[]>,
  ): Promise<readonly string[]> {
    this.afterOutage();
    if (atLeast === undefined) return this.answered('unnamed', read());
    const position = this.position;
    if (!this.isSynced || position === null || position < atLeast) return this.answered('behind', read());
    const found = this.kept.get(providerId);
    if (found) {
      // Kept most recently used last: the first entry is the one to drop.
      this.kept.delete(providerId);
      this.kept.set(providerId, found);
      this.looked('kept');
      return found;
    }
    this.looked('read');
    const mark = {};
    this.reading.set(providerId, mark);
    const outages = this.outages;
    try {
      const skills = await read();
      if (this.reading.get(providerId) === mark && this.outages === outages && this.isSynced)
        this.keep(providerId, skills);
      return skills;
    } finally {
      if (this.reading.get(providerId) === mark) this.reading.delete(providerId);
    }
  }

  private answered(outcome: SkillsOutcome, skills: Promise<readonly string[]>): Promise<readonly string[]> {
    this.looked(outcome);
    return skills;
  }

  private keep(providerId: string, skills: readonly string[]): void {
    // A provider may offer every service: only lists up to MAX_KEPT_SKILLS are kept, so each entry is bounded.
    if (this.maxProviders <= 0 || skills.length > MAX_KEPT_SKILLS) return;
    this.kept.delete(providerId);
    while (this.kept.size >= this.maxProviders) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(providerId, Object.freeze([...skills]));
  }
}
