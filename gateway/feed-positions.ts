import { FEED_FOLLOWERS, formatFeedPositions } from '../contracts/feeds.js';

/** FollowedFeed is what FeedPositions reads of the gateway's follower of one subgraph's change feed. */
export interface FollowedFeed {
  readonly isSynced: boolean;
  readonly position: number | null;
}

/**
 * FeedPositions gives, for a request to a subgraph that keeps a copy of other subgraphs' change feeds (FEED_FOLLOWERS:
 * order keeps providers' skills from catalog's), FEED_POSITIONS_HEADER's value: per followed feed, the furthest this
 * gateway knows the feed to have come, which is the largest of its own copy's position, any sequence an answer through
 * this gateway has named (a mutation whose wait for the copy timed out), and this request's own (a mutation earlier in
 * the same operation). The subgraph answers from its copy only when its copy is at least that far. A feed this gateway
 * is out of sync with is left out, so the subgraph asks the feed's owner.
 */
export class FeedPositions {
  private readonly named = new Map<string, number>();
  private readonly followed = new Map<string, readonly string[]>();

  constructor(private readonly feeds: Readonly<Record<string, FollowedFeed>>) {
    for (const [subgraph, owners] of Object.entries(FEED_FOLLOWERS)) {
      const mine = owners.filter((owner) => Object.hasOwn(feeds, owner));
      if (mine.length > 0) this.followed.set(subgraph, mine);
    }
  }

  /** noted records that a subgraph's answer named its feed's sequence (FEED_SEQ_HEADERS). */
  noted(owner: string, seq: number): void {
    if (seq > (this.named.get(owner) ?? -1)) this.named.set(owner, seq);
  }

  /** follows tells whether requests to the subgraph carry the header at all. */
  follows(subgraph: string): boolean {
    return this.followed.has(subgraph);
  }

  /** valueFor gives the header's value for one request to the subgraph, or undefined to send none. */
  valueFor(subgraph: string, requestSeqs: Readonly<Record<string, number>> | undefined): string | undefined {
    const owners = this.followed.get(subgraph);
    if (!owners) return undefined;
    const positions: Record<string, number | null> = {};
    for (const owner of owners) {
      const feed = this.feeds[owner]!;
      if (!feed.isSynced || feed.position === null) continue;
      positions[owner] = Math.max(feed.position, this.named.get(owner) ?? -1, requestSeqs?.[owner] ?? -1);
    }
    return formatFeedPositions(positions);
  }
}
