import {
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { SHARED_ENTITY_CHANGES, SHARED_ENTITY_FIELDS, SHARED_ENTITY_REFERENCES } from '../contracts/shared-entities.js';
import type { EntityFeed } from '../foundation/http/feed-follower.js';

/** EntityCacheSettings bound what the gateway keeps of shared entity fields. */
export interface EntityCacheSettings {
  /** maxEntries bounds the entities kept (0: nothing is kept); past it the oldest of the most numerous type goes. */
  maxEntries: number;
  /** ttlMs is how long an entity is kept at most, whatever the feed says. */
  ttlMs: number;
}

/** CacheCounters count look-ups by subgraph (metrics). */
export interface CacheCounters {
  lookups(subgraph: string, hits: number, misses: number): void;
}

/** Reference is a shared field that references entities of its subgraph (SHARED_ENTITY_REFERENCES), as selected. */
interface Reference {
  /** typename is the type of the entities referenced. */
  readonly typename: string;
  /** fields are the listed entities' fields the fetch selects (shared fields of theirs, `__typename` apart). */
  readonly fields: readonly string[];
  /** withTypename: the fetch selects the listed entities' `__typename`. */
  readonly withTypename: boolean;
}

/** SelectedField is one field a kept fetch selects of an entity: a scalar, or a reference (one or a list). */
interface SelectedField {
  readonly name: string;
  readonly ref?: Reference;
}

/**
 * KeptFetch is one `_entities` fetch the cache may answer: a subgraph, and per entity type the fields the fetch selects
 * (shared fields only, none aliased); feed is the subgraph's change feed when a type it selects is kept on the feed's
 * word.
 */
export interface KeptFetch {
  readonly subgraph: string;
  readonly fields: ReadonlyMap<string, readonly SelectedField[]>;
  readonly feed: EntityFeed | undefined;
}

/**
 * A Ticket is taken before a fetch is sent: its answers are kept only if the feed was in sync then and nothing changed
 * in between (a fetch sent while the feed was out of sync may have read a row whose change the feed never delivers).
 */
export interface Ticket {
  readonly changes: number;
  readonly outages: number;
  readonly synced: boolean;
}

/**
 * MAX_KEPT_LIST bounds a kept list of references: a longer one (a provider with more skills) is fetched every time, so
 * an entity's entry stays a few hundred bytes.
 */
export const MAX_KEPT_LIST = 50;

interface Entry {
  expires: number;
  /**
   * values holds the entity's shared fields fetched so far, by field name (at most its type's few shared fields); a
   * reference holds the referenced entity's id (a list, their ids), their fields being kept as theirs.
   */
  values: Record<string, unknown>;
}

/**
 * SharedEntityCache keeps the shared fields of entities (contracts/shared-entities.ts: the same answer for every
 * caller) that `_entities` fetches selecting only such fields brought, so a later fetch asks the subgraph only for
 * the entities it has not kept. What may be kept and for how long is the type's SHARED_ENTITY_CHANGES:
 * - `never` (services' names and categories, categories' names, ids): kept until the TTL or eviction.
 * - `feed` (users' names and avatars, from user's session feed; providers' skills and services' default pages of
 *   providers, from catalog's feed): kept only while the gateway's copy of the subgraph's change feed is in sync; the
 *   entity's event drops it, and an outage of the feed drops every such field (a change may have been missed).
 *   What is per field: the kept entries' `never` fields stay. An answer is kept only if no change
 *   arrived while its fetch was in flight (a fetch may have read the row before the change committed). The mutation
 *   that made the change answers only once the serving gateway's feed has its event (gateway.ts, read-your-writes, up
 *   to GATEWAY_SESSION_WAIT_MS), so its caller sees the change on their next request through that gateway; other
 *   gateways drop it when their feed delivers it.
 * What is kept per entity is the values of its shared fields, by name, so an entity holds at most its type's few
 * shared fields whatever documents ask; a fetch is answered from them when every field it selects is kept. A
 * reference (`Service.category`) or a list of them (`User.skills`, `Service.providers`) is kept as the referenced
 * entities' ids, and their fields as those entities' own, so it is answered when every referenced entity's selected
 * fields are kept too. Only fetches without aliases, representations
 * `{ __typename, id }` with a string id, and fetches without errors are kept.
 */
export class SharedEntityCache {
  /** kinds holds the kept entities per subgraph and type (`subgraph\ntypename`), by id: no key is built per look-up. */
  private readonly kinds = new Map<string, Map<string, Entry>>();
  private count = 0;
  private readonly fetches = new Map<string, Map<string, KeptFetch | null>>();
  private changes = 0;
  private readonly outagesSeen = new Map<EntityFeed, number>();
  private lastKind: { subgraph: string; typename: string; kind: Map<string, Entry> } | undefined;

  constructor(
    private readonly settings: EntityCacheSettings,
    private readonly feeds: Readonly<Record<string, EntityFeed>>,
    private readonly counters?: CacheCounters,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const [subgraph, feed] of Object.entries(feeds)) {
      this.outagesSeen.set(feed, feed.outages);
      feed.onEntityChange((typename, id) => this.forget(subgraph, typename, id));
    }
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
      known = this.describe(subgraph, query) ?? null;
      if (!bySubgraph) {
        // Plans are few; a flood of ad-hoc fetch texts only costs their look-up again.
        if (this.fetches.size >= 10_000) this.fetches.clear();
        this.fetches.set(query, (bySubgraph = new Map()));
      }
      bySubgraph.set(subgraph, known);
    }
    return known ?? undefined;
  }

  /** describe reads a fetch that selects only shared fields of types that may be kept; undefined for any other. */
  private describe(subgraph: string, query: string): KeptFetch | undefined {
    const changes = SHARED_ENTITY_CHANGES[subgraph];
    const fields = SHARED_ENTITY_FIELDS[subgraph];
    if (!changes || !fields || !selectsOnly(query, fields, SHARED_ENTITY_REFERENCES[subgraph])) return undefined;
    const selected = fieldsOf(query, SHARED_ENTITY_REFERENCES[subgraph] ?? {});
    if (!selected) return undefined;
    // Every field selected is shared (selectsOnly), so each has its way of changing: does one follow the feed?
    const follows = (type: string, field: string) => changes[type]?.[field] === 'feed';
    let viaFeed = false;
    for (const [typename, names] of selected)
      for (const { name, ref } of names)
        viaFeed ||= follows(typename, name) || (!!ref && ref.fields.some((field) => follows(ref.typename, field)));
    const feed = this.feeds[subgraph];
    if (viaFeed && !feed) return undefined;
    return { subgraph, fields: selected, feed: viaFeed ? feed : undefined };
  }

  /** ticket is taken before sending a fetch whose answers may be kept. */
  ticket(fetch: KeptFetch): Ticket {
    return { changes: this.changes, outages: fetch.feed?.outages ?? 0, synced: fetch.feed?.isSynced ?? true };
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
        const names = fetch.fields.get(typename);
        const values = names && this.valuesOf(fetch.subgraph, typename, id, now);
        const answer = values && this.answerOf(fetch.subgraph, values, typename, names, now);
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
    if (fetch.feed && (!ticket.synced || ticket.changes !== this.changes || ticket.outages !== fetch.feed.outages))
      return;
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
      const values = this.entryOf(fetch.subgraph, typename, id, expires).values;
      for (const { name, ref } of names) {
        const value = (entity as Record<string, unknown>)[name];
        if (value === undefined) continue;
        if (!ref) {
          values[name] = value;
          continue;
        }
        // One or a list, as the answer has it (the fetch's text does not say).
        const ids = Array.isArray(value)
          ? this.keepListed(fetch.subgraph, ref, value, expires)
          : this.keepOne(fetch.subgraph, ref, value, expires);
        if (ids !== undefined) values[name] = ids;
      }
    }
  }

  /**
   * keepListed keeps the entities of a list of references (each its selected fields) and gives their ids, or undefined
   * when the value is not a list of at most MAX_KEPT_LIST such entities with ids (a fetch that does not select the
   * listed entities' `id` is not kept: the registered operations all select it).
   */
  private keepListed(subgraph: string, ref: Reference, value: unknown, expires: number): string[] | undefined {
    if (!Array.isArray(value) || value.length > MAX_KEPT_LIST) return undefined;
    const ids: string[] = [];
    for (const item of value) {
      const id = item !== null && typeof item === 'object' ? (item as Record<string, unknown>).id : undefined;
      if (typeof id !== 'string') return undefined;
      ids.push(id);
    }
    for (let i = 0; i < ids.length; i++) {
      this.keepFields(subgraph, ref, ids[i]!, value[i] as Record<string, unknown>, expires);
    }
    return ids;
  }

  /** keepOne keeps one referenced entity and gives its id (null for none), or undefined for any other shape. */
  private keepOne(subgraph: string, ref: Reference, value: unknown, expires: number): string | null | undefined {
    if (value === null) return null;
    const id = typeof value === 'object' ? (value as Record<string, unknown>).id : undefined;
    if (typeof id !== 'string') return undefined;
    this.keepFields(subgraph, ref, id, value as Record<string, unknown>, expires);
    return id;
  }

  /** keepFields keeps the selected fields of a referenced entity as its own. */
  private keepFields(
    subgraph: string,
    ref: Reference,
    id: string,
    answer: Record<string, unknown>,
    expires: number,
  ): void {
    const values = this.entryOf(subgraph, ref.typename, id, expires).values;
    for (const name of ref.fields) {
      const field = answer[name];
      if (field !== undefined) values[name] = field;
    }
  }

  /** forget drops what is kept of one entity, and keeps no answer of a fetch in flight meanwhile. */
  forget(subgraph: string, typename: string, id: string): void {
    this.changes++;
    if (this.kindOf(subgraph, typename)?.delete(id)) this.count--;
  }

  /** entryOf finds or makes the kept entry of one entity (making one may evict another). */
  private entryOf(subgraph: string, typename: string, id: string, expires: number): Entry {
    const kind = this.kindOf(subgraph, typename, true)!;
    let entry = kind.get(id);
    if (!entry) {
      if (this.count >= this.settings.maxEntries) this.evictOne();
      kind.set(id, (entry = { expires, values: Object.create(null) as Record<string, unknown> }));
      this.count++;
    }
    return entry;
  }

  /** valuesOf gives the kept values of one entity, dropping it when its time is up. */
  private valuesOf(subgraph: string, typename: string, id: string, now: number): Record<string, unknown> | undefined {
    const kind = this.kindOf(subgraph, typename);
    const entry = kind?.get(id);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      kind!.delete(id);
      this.count--;
      return undefined;
    }
    return entry.values;
  }

  /**
   * answerOf makes an entity's answer to a fetch from its kept values (and, for a reference, the referenced
   * entities'); undefined when a field it selects is not kept.
   */
  private answerOf(
    subgraph: string,
    values: Record<string, unknown>,
    typename: string,
    names: readonly SelectedField[],
    now: number,
  ): Record<string, unknown> | undefined {
    const answer: Record<string, unknown> = { __typename: typename };
    for (const { name, ref } of names) {
      if (!(name in values)) return undefined;
      const value = values[name];
      if (!ref || value === null) {
        answer[name] = value;
        continue;
      }
      if (!Array.isArray(value)) {
        const one = this.referenced(subgraph, ref, value as string, now);
        if (!one) return undefined;
        answer[name] = one;
        continue;
      }
      const ids = value as readonly string[];
      const items = new Array<Record<string, unknown>>(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const item = this.referenced(subgraph, ref, ids[i]!, now);
        if (!item) return undefined;
        items[i] = item;
      }
      answer[name] = items;
    }
    return answer;
  }

  /** referenced makes a referenced entity's answer from its kept fields; undefined when one is not kept. */
  private referenced(subgraph: string, ref: Reference, id: string, now: number): Record<string, unknown> | undefined {
    const kept = this.valuesOf(subgraph, ref.typename, id, now);
    if (!kept) return undefined;
    const item: Record<string, unknown> = ref.withTypename ? { __typename: ref.typename } : {};
    for (const field of ref.fields) {
      if (!(field in kept)) return undefined;
      item[field] = kept[field];
    }
    return item;
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
   * usable: a fetch of `never` types always; one that reads a feed while that feed is in sync, after dropping what its
   * subgraph had kept on the feed's word before an outage.
   */
  private usable(fetch: KeptFetch): boolean {
    const feed = fetch.feed;
    if (!feed) return true;
    if (feed.outages !== this.outagesSeen.get(feed)) {
      this.outagesSeen.set(feed, feed.outages);
      const prefix = `${fetch.subgraph}\n`;
      for (const [key, kind] of this.kinds) {
        if (!key.startsWith(prefix)) continue;
        const changes = Object.entries(SHARED_ENTITY_CHANGES[fetch.subgraph]?.[key.slice(prefix.length)] ?? {});
        const followed = changes.filter(([, change]) => change === 'feed').map(([field]) => field);
        if (followed.length === 0) continue;
        if (changes.every(([field, change]) => change === 'feed' || field === 'id')) {
          // Nothing but the id would stay (users' names, providers' skills): the type goes.
          this.count -= kind.size;
          this.kinds.delete(key);
          continue;
        }
        // The fields that never change stay (services' names: still answered, while catalog itself is down, to a
        // fetch that selects no followed field).
        for (const entry of kind.values()) for (const field of followed) delete entry.values[field];
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
export function idOf(representation: Record<string, unknown>): string | undefined {
  const { __typename: typename, id } = representation;
  if (typeof typename !== 'string' || typeof id !== 'string') return undefined;
  let keys = 0;
  for (const _ in representation) keys++;
  return keys === 2 ? id : undefined;
}

/**
 * fieldsOf reads the fields an `_entities` fetch selects per type (the fetch passed selectsOnly: inline fragments of
 * plain fields, and references with plain fields), or undefined when one is aliased or a reference is selected
 * twice.
 */
export function fieldsOf(
  query: string,
  references: Readonly<Record<string, Readonly<Record<string, string>>>>,
): Map<string, SelectedField[]> | undefined {
  const operation = parse(query).definitions[0] as OperationDefinitionNode;
  const root = operation.selectionSet.selections[0] as FieldNode;
  const fields = new Map<string, SelectedField[]>();
  for (const selection of root.selectionSet?.selections ?? []) {
    if (selection.kind !== Kind.INLINE_FRAGMENT) continue;
    const type = selection.typeCondition!.name.value;
    const names = fields.get(type) ?? [];
    for (const field of selection.selectionSet.selections as FieldNode[]) {
      const name = field.name.value;
      if (field.alias) return undefined;
      if (name === '__typename') continue;
      const known = names.find((f) => f.name === name);
      if (!field.selectionSet) {
        if (!known) names.push({ name });
        continue;
      }
      if (known) return undefined;
      const listed = field.selectionSet.selections as FieldNode[];
      if (listed.some((f) => f.alias)) return undefined;
      const inner = [...new Set(listed.map((f) => f.name.value).filter((n) => n !== '__typename'))];
      names.push({
        name,
        ref: {
          typename: references[type]![name]!,
          fields: inner,
          withTypename: listed.some((f) => f.name.value === '__typename'),
        },
      });
    }
    fields.set(type, names);
  }
  return fields;
}

/**
 * selectsOnly tells whether an `_entities` fetch selects nothing but the given
 * fields of the given types (and `__typename`): no argument, directive or
 * fragment spread, and a nested selection only under a reference, one or a list
 * (SHARED_ENTITY_REFERENCES) and only of the listed type's own shared fields,
 * so its answer is what those fields say.
 */
export function selectsOnly(
  query: string,
  fields: Readonly<Record<string, readonly string[]>>,
  references: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): boolean {
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
  const bare = (field: SelectionNode): field is FieldNode =>
    field.kind === Kind.FIELD && !field.arguments?.length && !field.directives?.length;
  const plain = (field: SelectionNode, allowed: readonly string[]) =>
    bare(field) && !field.selectionSet && (field.name.value === '__typename' || allowed.includes(field.name.value));
  const listOf = (field: SelectionNode, type: string, allowed: readonly string[]) => {
    if (!bare(field) || !field.selectionSet || !allowed.includes(field.name.value)) return false;
    const target = Object.hasOwn(references, type) ? references[type]![field.name.value] : undefined;
    const inner = target && Object.hasOwn(fields, target) ? fields[target]! : undefined;
    return !!inner && field.selectionSet.selections.every((f) => plain(f, inner));
  };
  return (root.selectionSet?.selections ?? []).every((selection) => {
    if (selection.kind !== Kind.INLINE_FRAGMENT) return plain(selection, []);
    const type = selection.typeCondition?.name.value;
    const allowed = type && !selection.directives?.length && Object.hasOwn(fields, type) && fields[type];
    return (
      !!allowed &&
      selection.selectionSet.selections.every((field) => plain(field, allowed) || listOf(field, type, allowed))
    );
  });
}
