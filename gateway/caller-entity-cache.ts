import { CALLER_ENTITY_CHANGES } from '../contracts/shared-entities.js';
import type { EntityFeed } from '../foundation/http/feed-follower.js';
import { fieldsOf, idOf, selectsOnly } from './entity-cache.js';
import type { CacheCounters, EntityCacheSettings } from './entity-cache.js';

/**
 * CallerFetch is one `_entities` fetch the cache may answer per caller: a subgraph, the fields it selects per entity
 * type (CALLER_ENTITY_CHANGES' scalars only, none aliased), and the feeds its answers are kept on the word of (the
 * owner's feed and the types' callerFeeds).
 */
export interface CallerFetch {
  readonly subgraph: string;
  readonly fields: ReadonlyMap<string, readonly string[]>;
  readonly feeds: readonly EntityFeed[];
}

/**
 * CallerTicket is taken before a fetch is sent: its answers are kept only if every feed was in sync then and nothing
 * changed in between (the fetch may have read a row before a change the feed delivered meanwhile).
 */
export interface CallerTicket {
  readonly changes: number;
  readonly outages: number;
  readonly synced: boolean;
}

/** Caller is who an answer is kept for: the statement's key (callerStatementKey) and the user it names. */
export interface CallerOfFetch {
  readonly key: string;
  readonly userId: string;
}

interface Entry {
  expires: number;
  /** epoch is the caller's user's epoch when kept: an event about that user since (their skills) makes it stale. */
  epoch: number;
  values: Record<string, unknown>;
}

/**
 * CallerEntityCache keeps, per caller, the fields of CALLER_ENTITY_CHANGES that `_entities` fetches selecting only such
 * fields brought: whether the caller may see an order, and its status, depend on the caller, so each caller (the same
 * statement: user, session, roles, address, user agent) is answered only what was fetched for them. It keeps an entity
 * while its owner's feed and the type's callerFeeds are in sync, drops every caller's answer of an entity on the
 * entity's event in its owner's feed, makes a user's answers stale on an event about that user in a callerFeeds feed
 * (a provider's skills decide whether they may see an open order), and drops everything on an outage of any of these
 * feeds. An answer with an error or a null entity is never kept (the subgraph's refusal is asked again each time). The
 * mutation that made a change answers once the serving gateway's feed has its event (gateway.ts, read-your-writes), so
 * its caller, and every caller of that gateway, sees the change on their next request; other gateways drop what they
 * kept when their feed delivers it. A chat delivery's `conversation.order { id status }` is the fetch this is for: one
 * per delivery, per caller, and the same answer until the order changes.
 */
export class CallerEntityCache {
  /** entities holds, by `subgraph\ntypename\nid`, each caller's kept values of that entity, by the caller's key. */
  private readonly entities = new Map<string, Map<string, Entry>>();
  private count = 0;
  private changes = 0;
  /** epochs counts, per user, the events about that user in a callerFeeds feed (only users with one are here). */
  private readonly epochs = new Map<string, number>();
  private readonly fetches = new Map<string, CallerFetch | null>();
  /** watched are the feeds any kept type depends on, with the outages seen of each. */
  private readonly watched = new Map<EntityFeed, number>();

  constructor(
    private readonly settings: EntityCacheSettings,
    private readonly feeds: Readonly<Record<string, EntityFeed>>,
    private readonly counters?: CacheCounters,
    private readonly now: () => number = () => performance.now(),
  ) {
    const callerFeeds = new Set<string>();
    for (const [subgraph, types] of Object.entries(CALLER_ENTITY_CHANGES)) {
      const owner = feeds[subgraph];
      if (owner) {
        this.watched.set(owner, owner.outages);
        owner.onEntityChange((typename, id) => {
          if (Object.hasOwn(types, typename)) this.dropEntity(subgraph, typename, id);
        });
      }
      for (const type of Object.values(types)) for (const name of type.callerFeeds) callerFeeds.add(name);
    }
    for (const name of callerFeeds) {
      const feed = feeds[name];
      if (!feed) continue;
      this.watched.set(feed, feed.outages);
      feed.onEntityChange((typename, id) => {
        if (typename === 'User') this.userChanged(id);
      });
    }
  }

  /** size is how many answers (entity and caller) are kept. */
  get size(): number {
    return this.count;
  }

  /** fetchOf says whether a fetch's answers may be kept per caller: the fetch's description, or undefined. */
  fetchOf(subgraph: string, query: string): CallerFetch | undefined {
    if (this.settings.maxEntries <= 0) return undefined;
    const key = `${subgraph}\n${query}`;
    let known = this.fetches.get(key);
    if (known === undefined) {
      known = this.describe(subgraph, query) ?? null;
      // Plans are few; a flood of ad-hoc fetch texts only costs their look-up again.
      if (this.fetches.size >= 10_000) this.fetches.clear();
      this.fetches.set(key, known);
    }
    return known ?? undefined;
  }

  private describe(subgraph: string, query: string): CallerFetch | undefined {
    const types = CALLER_ENTITY_CHANGES[subgraph];
    if (!types) return undefined;
    const allowed = Object.fromEntries(Object.entries(types).map(([type, entry]) => [type, Object.keys(entry.fields)]));
    if (!selectsOnly(query, allowed)) return undefined;
    const selected = fieldsOf(query, {});
    if (!selected || selected.size === 0) return undefined;
    const feeds = new Set<EntityFeed>();
    const fields = new Map<string, string[]>();
    for (const [typename, names] of selected) {
      const type = types[typename]!;
      fields.set(
        typename,
        names.map((field) => field.name),
      );
      // A type is kept on its owner's feed and on every feed that may change what its callers see; without one of them
      // the fetch is asked every time.
      const owner = this.feeds[subgraph];
      if (!owner) return undefined;
      feeds.add(owner);
      for (const name of type.callerFeeds) {
        const feed = this.feeds[name];
        if (!feed) return undefined;
        feeds.add(feed);
      }
    }
    return { subgraph, fields, feeds: [...feeds] };
  }

  /** ticket is taken before sending a fetch whose answers may be kept. */
  ticket(fetch: CallerFetch): CallerTicket {
    let outages = 0;
    let synced = true;
    for (const feed of fetch.feeds) {
      outages += feed.outages;
      synced &&= feed.isSynced;
    }
    return { changes: this.changes, outages, synced };
  }

  /** lookup gives the caller's kept answers for each representation (undefined where none is kept), counting them. */
  lookup(
    fetch: CallerFetch,
    caller: CallerOfFetch,
    representations: readonly Record<string, unknown>[],
  ): (Record<string, unknown> | undefined)[] {
    const found = new Array<Record<string, unknown> | undefined>(representations.length).fill(undefined);
    let hits = 0;
    if (this.usable(fetch)) {
      const now = this.now();
      const epoch = this.epochs.get(caller.userId) ?? 0;
      for (let i = 0; i < representations.length; i++) {
        const place = placeOf(fetch, representations[i]!);
        if (!place) continue;
        const { typename, names, entityKey } = place;
        const callers = this.entities.get(entityKey);
        const entry = callers?.get(caller.key);
        if (!entry) continue;
        if (entry.expires <= now || entry.epoch !== epoch) {
          this.dropAnswer(entityKey, callers!, caller.key);
          continue;
        }
        const answer: Record<string, unknown> = { __typename: typename };
        let complete = true;
        for (const name of names) {
          if (!(name in entry.values)) {
            complete = false;
            break;
          }
          answer[name] = entry.values[name];
        }
        if (complete) {
          found[i] = answer;
          hits++;
        }
      }
    }
    this.counters?.lookups(fetch.subgraph, hits, representations.length - hits);
    return found;
  }

  /**
   * keep stores, for the caller, the values of the fields a fetch selects from its answers (entities[i] answers
   * representations[i]; a null one is not kept), unless a feed was out of sync, went out of sync, or brought a change
   * since the ticket was taken.
   */
  keep(
    fetch: CallerFetch,
    ticket: CallerTicket,
    caller: CallerOfFetch,
    representations: readonly Record<string, unknown>[],
    entities: readonly unknown[],
  ): void {
    if (!ticket.synced || ticket.changes !== this.changes || !this.usable(fetch)) return;
    if (this.ticket(fetch).outages !== ticket.outages) return;
    const expires = this.now() + this.settings.ttlMs;
    const epoch = this.epochs.get(caller.userId) ?? 0;
    for (let i = 0; i < representations.length; i++) {
      const entity = entities[i];
      if (entity === null || typeof entity !== 'object') continue;
      const place = placeOf(fetch, representations[i]!);
      if (!place) continue;
      const { names, entityKey } = place;
      let callers = this.entities.get(entityKey);
      let entry = callers?.get(caller.key);
      if (entry && entry.epoch !== epoch) {
        this.dropAnswer(entityKey, callers!, caller.key);
        callers = this.entities.get(entityKey);
        entry = undefined;
      }
      if (!entry) {
        if (this.count >= this.settings.maxEntries) {
          this.evictOldest();
          callers = this.entities.get(entityKey);
        }
        if (!callers) this.entities.set(entityKey, (callers = new Map()));
        callers.set(caller.key, (entry = { expires, epoch, values: Object.create(null) as Record<string, unknown> }));
        this.count++;
      }
      entry.expires = expires;
      for (const name of names) {
        const value = (entity as Record<string, unknown>)[name];
        if (value !== undefined) entry.values[name] = value;
      }
    }
  }

  /** dropEntity drops every caller's answer of one entity (its event in the owner's feed). */
  private dropEntity(subgraph: string, typename: string, id: string): void {
    this.changes++;
    const key = `${subgraph}\n${typename}\n${id}`;
    const callers = this.entities.get(key);
    if (!callers) return;
    this.count -= callers.size;
    this.entities.delete(key);
  }

  /**
   * userChanged makes every answer kept for that user stale (an event about the user in a callerFeeds feed). The epochs
   * are bounded by the entries: past that many users with events, everything kept goes, and the epochs with it.
   */
  private userChanged(userId: string): void {
    this.changes++;
    if (this.epochs.size >= Math.max(1000, this.settings.maxEntries)) this.clear();
    this.epochs.set(userId, (this.epochs.get(userId) ?? 0) + 1);
  }

  private dropAnswer(entityKey: string, callers: Map<string, Entry>, callerKey: string): void {
    if (!callers.delete(callerKey)) return;
    this.count--;
    if (callers.size === 0) this.entities.delete(entityKey);
  }

  /** evictOldest drops the entity kept first, with all its callers' answers. */
  private evictOldest(): void {
    const oldest = this.entities.entries().next();
    if (oldest.done) return;
    this.count -= oldest.value[1].size;
    this.entities.delete(oldest.value[0]);
  }

  private clear(): void {
    this.entities.clear();
    this.epochs.clear();
    this.count = 0;
  }

  /** usable: every feed of the fetch is in sync, after dropping everything kept when one of them had an outage. */
  private usable(fetch: CallerFetch): boolean {
    let synced = true;
    for (const feed of fetch.feeds) synced &&= feed.isSynced;
    for (const [feed, seen] of this.watched) {
      if (feed.outages === seen) continue;
      this.watched.set(feed, feed.outages);
      this.changes++;
      this.clear();
    }
    return synced;
  }
}

/**
 * placeOf finds where a representation's answer is kept: its type's fields the fetch selects, and the entity's key;
 * undefined for a representation other than `{ __typename, id }` or of a type the fetch does not select.
 */
function placeOf(
  fetch: CallerFetch,
  representation: Record<string, unknown>,
): { typename: string; names: readonly string[]; entityKey: string } | undefined {
  const id = idOf(representation);
  if (id === undefined) return undefined;
  const typename = representation.__typename as string;
  const names = fetch.fields.get(typename);
  return names && { typename, names, entityKey: `${fetch.subgraph}\n${typename}\n${id}` };
}
