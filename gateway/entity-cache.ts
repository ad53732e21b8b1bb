import { SHARED_ENTITY_CHANGES, SHARED_ENTITY_FIELDS } from '../contracts/shared-entities.js';
import { selectsOnly } from './subscriptions.js';

/** EntityCacheSettings bound what the gateway keeps of shared entity fields. */
export interface EntityCacheSettings {
  /** maxEntries bounds the entities kept (0: nothing is kept); past it the oldest kept goes first. */
  maxEntries: number;
  /** ttlMs is how long an entity is kept at most, whatever the feed says. */
  ttlMs: number;
}

/** UserFeed is what the cache reads of the gateway's copy of the user feed (gateway/session-revocations.ts). */
export interface UserFeed {
  /** isSynced: the feed's replay is read and its stream is up, so every change reaches the gateway. */
  readonly isSynced: boolean;
  /** outages counts the times the feed went out of sync: what was kept before one may have missed a change. */
  readonly outages: number;
  /** onProfileChange hears each `profile` event: the user's shared fields changed. */
  onProfileChange(listener: (userId: string) => void): () => void;
}

/** CacheCounters count look-ups by subgraph (metrics). */
export interface CacheCounters {
  lookups(subgraph: string, hits: number, misses: number): void;
}

/**
 * KeptFetch is one `_entities` fetch the cache may answer: a subgraph and a query that selects only shared fields of
 * that subgraph.
 */
export interface KeptFetch {
  readonly subgraph: string;
  /** slot tells this fetch's answers apart from other queries' answers about the same entity. */
  readonly slot: number;
  readonly viaFeed: boolean;
}

/** A Ticket is taken before a fetch is sent: its answers are kept only if nothing changed in between. */
export interface Ticket {
  readonly changes: number;
  readonly outages: number;
}

interface Entry {
  expires: number;
  /** answers holds, per fetch slot, the entity as that fetch answered it. */
  answers: Map<number, Record<string, unknown>>;
}

/**
 * SharedEntityCache keeps the answers of `_entities` fetches that select only
 * an entity's shared fields (contracts/shared-entities.ts: the same answer for
 * every caller), so a later request asks the subgraph only for the entities it
 * has not kept. What may be kept and for how long is the subgraph's
 * SHARED_ENTITY_CHANGES:
 * - `never` (catalog's services and categories): kept until the TTL or
 *   eviction.
 * - `user-feed` (users' names and avatars): kept only while the gateway's copy
 *   of the user feed is in sync; a `profile` event drops that user, and an
 *   outage of the feed drops every user (a change may have been missed). An
 *   answer is kept only if no change arrived while its fetch was in flight (a
 *   fetch may have read the row before the change committed). The mutation
 *   that changed a profile answers only once this gateway's feed has its event
 *   (gateway.ts, read-your-writes), so its caller sees the change at once;
 *   another gateway sees it when its feed does, within milliseconds.
 * An answer is used again only for the same fetch text (its aliases and
 * fields), only for representations `{ __typename, id }` with a string id, and
 * only answers of fetches without errors are kept.
 */
export class SharedEntityCache {
  /** kinds holds the kept entities per subgraph and type (`subgraph\ntypename`), by id: no key is built per look-up. */
  private readonly kinds = new Map<string, Map<string, Entry>>();
  private count = 0;
  private readonly fetches = new Map<string, KeptFetch | null>();
  private changes = 0;
  private outagesSeen = 0;

  constructor(
    private readonly settings: EntityCacheSettings,
    private readonly feed: UserFeed | undefined,
    private readonly counters?: CacheCounters,
    private readonly now: () => number = () => performance.now(),
    private readonly shared = SHARED_ENTITY_FIELDS,
    private readonly changesOf = SHARED_ENTITY_CHANGES,
  ) {
    feed?.onProfileChange((userId) => this.forget('user', 'User', userId));
  }

  /** size is how many entities are kept. */
  get size(): number {
    return this.count;
  }

  /** fetchOf says whether a fetch's answers may be kept: the fetch's description, or undefined. */
  fetchOf(subgraph: string, query: string): KeptFetch | undefined {
    if (this.settings.maxEntries <= 0) return undefined;
    const key = `${subgraph}\n${query}`;
    let known = this.fetches.get(key);
    if (known === undefined) {
      const changes = this.changesOf[subgraph];
      const fields = this.shared[subgraph];
      const keepable = !!changes && !!fields && (changes === 'never' || this.feed !== undefined);
      known =
        keepable && selectsOnly(query, fields)
          ? { subgraph, slot: this.fetches.size, viaFeed: changes === 'user-feed' }
          : null;
      // Plans are few; a flood of ad-hoc fetch texts only costs their look-up again.
      if (this.fetches.size >= 10_000) this.fetches.clear();
      this.fetches.set(key, known);
    }
    return known ?? undefined;
  }

  /** ticket is taken before sending a fetch whose answers may be kept. */
  ticket(): Ticket {
    return { changes: this.changes, outages: this.feed?.outages ?? 0 };
  }

  /**
   * lookup gives the kept answers for each representation (undefined where none is kept), counting hits and misses.
   */
  lookup(
    fetch: KeptFetch,
    representations: readonly Record<string, unknown>[],
  ): (Record<string, unknown> | undefined)[] {
    const found = new Array<Record<string, unknown> | undefined>(representations.length).fill(undefined);
    let hits = 0;
    if (this.usable(fetch)) {
      const now = this.now();
      for (let i = 0; i < representations.length; i++) {
        const representation = representations[i]!;
        const id = idOf(representation);
        const kind = id === undefined ? undefined : this.kindOf(fetch.subgraph, representation.__typename as string);
        const entry = kind?.get(id!);
        if (!entry) continue;
        if (entry.expires <= now) {
          kind!.delete(id!);
          this.count--;
          continue;
        }
        const answer = entry.answers.get(fetch.slot);
        if (answer) {
          found[i] = answer;
          hits++;
        }
      }
    }
    this.counters?.lookups(fetch.subgraph, hits, representations.length - hits);
    return found;
  }

  /**
   * keep stores a fetch's answers (entities[i] answers representations[i]; a null one is not kept), unless a change or
   * an outage of the feed came after the ticket was taken. The caller must not change a kept answer afterwards.
   */
  keep(
    fetch: KeptFetch,
    ticket: Ticket,
    representations: readonly Record<string, unknown>[],
    entities: readonly unknown[],
  ): void {
    if (!this.usable(fetch)) return;
    if (fetch.viaFeed && (ticket.changes !== this.changes || ticket.outages !== this.outagesSeen)) return;
    const expires = this.now() + this.settings.ttlMs;
    for (let i = 0; i < representations.length; i++) {
      const entity = entities[i];
      if (entity === null || typeof entity !== 'object') continue;
      const representation = representations[i]!;
      const id = idOf(representation);
      if (id === undefined) continue;
      const kind = this.kindOf(fetch.subgraph, representation.__typename as string, true)!;
      let entry = kind.get(id);
      if (!entry) {
        if (this.count >= this.settings.maxEntries) this.evictOldest();
        kind.set(id, (entry = { expires, answers: new Map() }));
        this.count++;
      }
      entry.answers.set(fetch.slot, entity as Record<string, unknown>);
    }
  }

  /** forget drops what is kept of one entity, and keeps no answer of a fetch in flight meanwhile. */
  forget(subgraph: string, typename: string, id: string): void {
    this.changes++;
    if (this.kindOf(subgraph, typename)?.delete(id)) this.count--;
  }

  private lastKind: { subgraph: string; typename: string; kind: Map<string, Entry> } | undefined;

  /** kindOf finds (or, with make, makes) the kept entities of one subgraph's type; a fetch asks for one type again. */
  private kindOf(subgraph: string, typename: string, make = false): Map<string, Entry> | undefined {
    const last = this.lastKind;
    if (last && last.subgraph === subgraph && last.typename === typename) return last.kind;
    const key = `${subgraph}\n${typename}`;
    let kind = this.kinds.get(key);
    if (!kind && make) this.kinds.set(key, (kind = new Map()));
    if (kind) this.lastKind = { subgraph, typename, kind };
    return kind;
  }

  /**
   * usable: a fetch of a `never` subgraph always; one of a `user-feed` subgraph while the feed is in sync, after
   * dropping what was kept before an outage.
   */
  private usable(fetch: KeptFetch): boolean {
    if (!fetch.viaFeed) return true;
    const feed = this.feed!;
    if (feed.outages !== this.outagesSeen) {
      this.outagesSeen = feed.outages;
      for (const [key, kind] of this.kinds)
        if (key.startsWith(`${fetch.subgraph}\n`)) {
          this.count -= kind.size;
          this.kinds.delete(key);
          this.lastKind = undefined;
        }
    }
    return feed.isSynced;
  }

  private evictOldest(): void {
    // The oldest kept of the first type kept: each type's entities go in the order they came.
    for (const kind of this.kinds.values()) {
      const oldest = kind.keys().next();
      if (oldest.done) continue;
      kind.delete(oldest.value);
      this.count--;
      return;
    }
  }
}

/** idOf gives the id of a representation `{ __typename, id }` with a string id, or undefined for any other shape. */
function idOf(representation: Record<string, unknown>): string | undefined {
  const { __typename: typename, id } = representation;
  if (typeof typename !== 'string' || typeof id !== 'string') return undefined;
  let keys = 0;
  for (const _ in representation) keys++;
  return keys === 2 ? id : undefined;
}
