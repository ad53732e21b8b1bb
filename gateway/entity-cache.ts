import {
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { SHARED_ENTITY_CHANGES, SHARED_ENTITY_FIELDS } from '../contracts/shared-entities.js';

/** EntityCacheSettings bound what the gateway keeps of shared entity fields. */
export interface EntityCacheSettings {
  /** maxEntries bounds the entities kept (0: nothing is kept); past it the oldest of the most numerous type goes. */
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
 * KeptFetch is one `_entities` fetch the cache may answer: a subgraph, and per entity type the fields the fetch selects
 * (shared fields only, none aliased).
 */
export interface KeptFetch {
  readonly subgraph: string;
  readonly fields: ReadonlyMap<string, readonly string[]>;
  readonly viaFeed: boolean;
}

/** A Ticket is taken before a fetch is sent: its answers are kept only if nothing changed in between. */
export interface Ticket {
  readonly changes: number;
  readonly outages: number;
}

interface Entry {
  expires: number;
  /** values holds the entity's shared fields fetched so far, by field name (at most its type's few shared fields). */
  values: Record<string, unknown>;
}

/**
 * SharedEntityCache keeps the shared fields of entities (contracts/shared-entities.ts: the same answer for every
 * caller) that `_entities` fetches selecting only such fields brought, so a later fetch asks the subgraph only for
 * the entities it has not kept. What may be kept and for how long is the subgraph's SHARED_ENTITY_CHANGES:
 * - `never` (catalog's services and categories): kept until the TTL or eviction.
 * - `user-feed` (users' names and avatars): kept only while the gateway's copy of the user feed is in sync; a
 *   `profile` event drops that user, and an outage of the feed drops every user (a change may have been missed). An
 *   answer is kept only if no change arrived while its fetch was in flight (a fetch may have read the row before the
 *   change committed). The mutation that changed a profile answers only once the serving gateway's feed has its event
 *   (gateway.ts, read-your-writes, up to GATEWAY_SESSION_WAIT_MS), so its caller sees the change on their next
 *   request through that gateway; other gateways drop it when their feed delivers it.
 * What is kept per entity is the values of its shared fields, by name, so an entity holds at most its type's few
 * shared fields whatever documents ask; a fetch is answered from them when every field it selects is kept. Only
 * fetches without aliases, representations `{ __typename, id }` with a string id, and fetches without errors are
 * kept.
 */
export class SharedEntityCache {
  /** kinds holds the kept entities per subgraph and type (`subgraph\ntypename`), by id: no key is built per look-up. */
  private readonly kinds = new Map<string, Map<string, Entry>>();
  private count = 0;
  private readonly fetches = new Map<string, Map<string, KeptFetch | null>>();
  private changes = 0;
  private outagesSeen = 0;
  private lastKind: { subgraph: string; typename: string; kind: Map<string, Entry> } | undefined;

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
    // By the fetch's text first: a plan's text is one string object, whose hash V8 keeps.
    let bySubgraph = this.fetches.get(query);
    let known = bySubgraph?.get(subgraph);
    if (known === undefined) {
      const changes = this.changesOf[subgraph];
      const fields = this.shared[subgraph];
      const keepable = !!changes && !!fields && (changes === 'never' || this.feed !== undefined);
      const selected = keepable && selectsOnly(query, fields) ? fieldsOf(query) : undefined;
      known = selected ? { subgraph, fields: selected, viaFeed: changes === 'user-feed' } : null;
      if (!bySubgraph) {
        // Plans are few; a flood of ad-hoc fetch texts only costs their look-up again.
        if (this.fetches.size >= 10_000) this.fetches.clear();
        this.fetches.set(query, (bySubgraph = new Map()));
      }
      bySubgraph.set(subgraph, known);
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
        if (id === undefined) continue;
        const typename = representation.__typename as string;
        const kind = this.kindOf(fetch.subgraph, typename);
        const entry = kind?.get(id);
        if (!entry) continue;
        if (entry.expires <= now) {
          kind!.delete(id);
          this.count--;
          continue;
        }
        const answer = answerOf(entry.values, typename, fetch.fields);
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
   * keep stores the values of the fields a fetch selects from its answers (entities[i] answers representations[i]; a
   * null one is not kept), unless a change or an outage of the feed came after the ticket was taken.
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
      const typename = representation.__typename as string;
      const names = fetch.fields.get(typename);
      if (!names) continue;
      const kind = this.kindOf(fetch.subgraph, typename, true)!;
      let entry = kind.get(id);
      if (!entry) {
        if (this.count >= this.settings.maxEntries) this.evictOne();
        kind.set(id, (entry = { expires, values: Object.create(null) as Record<string, unknown> }));
        this.count++;
      }
      for (const name of names) {
        const value = (entity as Record<string, unknown>)[name];
        if (value !== undefined) entry.values[name] = value;
      }
    }
  }

  /** forget drops what is kept of one entity, and keeps no answer of a fetch in flight meanwhile. */
  forget(subgraph: string, typename: string, id: string): void {
    this.changes++;
    if (this.kindOf(subgraph, typename)?.delete(id)) this.count--;
  }

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
   * dropping what every `user-feed` subgraph had kept before an outage.
   */
  private usable(fetch: KeptFetch): boolean {
    if (!fetch.viaFeed) return true;
    const feed = this.feed!;
    if (feed.outages !== this.outagesSeen) {
      this.outagesSeen = feed.outages;
      for (const [key, kind] of this.kinds) {
        if (this.changesOf[key.slice(0, key.indexOf('\n'))] !== 'user-feed') continue;
        this.count -= kind.size;
        this.kinds.delete(key);
      }
      this.lastKind = undefined;
    }
    return feed.isSynced;
  }

  /** evictOne drops the oldest kept entity of the most numerous type (users before the few services and categories). */
  private evictOne(): void {
    let largest: Map<string, Entry> | undefined;
    for (const kind of this.kinds.values()) if (!largest || kind.size > largest.size) largest = kind;
    const oldest = largest?.keys().next();
    if (!largest || !oldest || oldest.done) return;
    largest.delete(oldest.value);
    this.count--;
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

/**
 * fieldsOf reads the fields an `_entities` fetch selects per type (the fetch passed selectsOnly: inline fragments of
 * plain fields), or undefined when one is aliased.
 */
function fieldsOf(query: string): Map<string, string[]> | undefined {
  const operation = parse(query).definitions[0] as OperationDefinitionNode;
  const root = operation.selectionSet.selections[0] as FieldNode;
  const fields = new Map<string, string[]>();
  for (const selection of root.selectionSet?.selections ?? []) {
    if (selection.kind !== Kind.INLINE_FRAGMENT) continue;
    const type = selection.typeCondition!.name.value;
    const names = fields.get(type) ?? [];
    for (const field of selection.selectionSet.selections as FieldNode[]) {
      if (field.alias) return undefined;
      if (field.name.value !== '__typename' && !names.includes(field.name.value)) names.push(field.name.value);
    }
    fields.set(type, names);
  }
  return fields;
}

/** answerOf makes an entity's answer to a fetch from its kept values; undefined when a field it selects is not kept. */
function answerOf(
  values: Record<string, unknown>,
  typename: string,
  fields: ReadonlyMap<string, readonly string[]>,
): Record<string, unknown> | undefined {
  const names = fields.get(typename);
  if (!names) return undefined;
  const answer: Record<string, unknown> = { __typename: typename };
  for (const name of names) {
    if (!(name in values)) return undefined;
    answer[name] = values[name];
  }
  return answer;
}

/**
 * selectsOnly tells whether an `_entities` fetch selects nothing but the given
 * fields of the given types (and `__typename`): no argument, directive,
 * fragment spread or nested selection, so its answer is what those fields say.
 */
export function selectsOnly(query: string, fields: Readonly<Record<string, readonly string[]>>): boolean {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return false;
  }
  const [operation, ...others] = document.definitions;
  if (others.length > 0 || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query')
    return false;
  const [root, ...moreRoots] = operation.selectionSet.selections;
  // An alias on _entities would hide the list that each part's slice is cut from.
  if (
    moreRoots.length > 0 ||
    root?.kind !== Kind.FIELD ||
    root.name.value !== '_entities' ||
    root.alias ||
    root.directives?.length
  )
    return false;
  const plain = (field: SelectionNode, allowed: readonly string[]) =>
    field.kind === Kind.FIELD &&
    !field.selectionSet &&
    !field.arguments?.length &&
    !field.directives?.length &&
    (field.name.value === '__typename' || allowed.includes(field.name.value));
  return (root.selectionSet?.selections ?? []).every((selection) => {
    if (selection.kind !== Kind.INLINE_FRAGMENT) return plain(selection, []);
    const type = selection.typeCondition?.name.value;
    const allowed = type && !selection.directives?.length && Object.hasOwn(fields, type) && fields[type];
    return !!allowed && selection.selectionSet.selections.every((field) => plain(field, allowed));
  });
}
