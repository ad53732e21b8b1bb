import { catalogFeedEventSchema, type CatalogFeedEvent } from '../../../contracts/catalog-events.js';
import { FeedFollower } from '../../../foundation/http/feed-follower.js';
import { SERVICE_HEADER, type ServiceCredentials } from '../../../foundation/http/internal-calls.js';
import type { Logger } from '../../../foundation/telemetry/logger.js';

/** SkillsOutcome says where one look-up of a provider's skills was answered: the copy, or catalog and why. */
export type SkillsOutcome = 'kept' | 'read' | 'behind' | 'unnamed';

/**
 * KeptSkills keeps providers' skills (the ids of the services each offers), as catalog answered them, and follows the
 * catalog's change feed (contracts/catalog-events.ts) to drop a provider's the moment they change. It answers a
 * request from its copy only when the copy is in sync and at least as far as the gateway's own copy was when it sent
 * the request (the caller's feedPositions, contracts/feeds.ts): a provider who changed their skills sees the change on
 * their next request, since the gateway that answered the change waited for its copy first. Otherwise catalog answers,
 * as it does without a copy. Nothing read from catalog is kept if an event for that provider, or an outage of the
 * feed, came while it was read; an outage drops the whole copy.
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
      credentials: async () => ({
        authorization: `Bearer ${credentials.secret}`,
        [SERVICE_HEADER]: credentials.service,
      }),
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
    return this.kept.size;
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
    if (this.outages !== this.outagesSeen) {
      // The feed was lost: any change may have been missed meanwhile.
      this.kept.clear();
      this.reading.clear();
      this.outagesSeen = this.outages;
    }
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
    if (this.maxProviders <= 0) return;
    this.kept.delete(providerId);
    while (this.kept.size >= this.maxProviders) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(providerId, Object.freeze([...skills]));
  }
}
