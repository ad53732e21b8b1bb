/**
 * SHARED_ENTITY_FIELDS names, per subgraph and entity type, the fields that
 * every caller (signed in or not) gets the same answer for when the entity is
 * reached by reference: the subgraph finds the entity without regard to the
 * caller and guards none of these fields by the caller's rights. The gateway
 * answers the follow-up fetches of several callers' subscription events with
 * one `_entities` call when each selects only these fields (and `__typename`),
 * and keeps their values between requests (SHARED_ENTITY_CHANGES); every other
 * fetch is merged only with fetches of the same caller. A field is a scalar
 * without arguments, or a reference (one or a list) named in
 * SHARED_ENTITY_REFERENCES, kept only when fetched without arguments.
 * Each subgraph named here has a test that its entry holds; a field whose
 * answer comes to depend on the caller must leave this list in the same change.
 */
export const SHARED_ENTITY_FIELDS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> =
  Object.fromEntries(
    Object.entries(sharedEntityChanges()).map(([subgraph, types]) => [
      subgraph,
      Object.fromEntries(Object.entries(types).map(([type, fields]) => [type, Object.keys(fields)])),
    ]),
  );

/**
 * SHARED_ENTITY_REFERENCES names, per subgraph, the shared fields that are references to the same subgraph's entities,
 * one or a list: `User.skills` lists catalog's `Service`, `Service.category` is a `Category`, `Service.providers` lists
 * catalog's `User`. A fetch may select such a field only without arguments (`providers`: its default page) and only
 * with shared fields of the entity it references; the gateway keeps the referenced entities' ids, and their fields as
 * that entity's own.
 */
export const SHARED_ENTITY_REFERENCES: Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>
> = {
  catalog: { User: { skills: 'Service' }, Service: { category: 'Category', providers: 'User' } },
};

/**
 * SHARED_ENTITY_CHANGES says, per subgraph, type and shared field (SHARED_ENTITY_FIELDS is made of its names), how the
 * gateway learns that the field changed, and so whether it may keep what it fetched (gateway/entity-cache.ts):
 * - `never`: the subgraph never changes the field once the entity exists (catalog's services and categories: its
 *   runtime role may not update or delete them; ids). Kept until the gateway's time to live or eviction.
 * - `feed`: the subgraph writes an event to its change feed (contracts/feeds.ts) in the transaction that changes it
 *   (user: a `profile` event of the session feed, contracts/session-events.ts, for a name or an avatar; catalog: a
 *   `skills` event, contracts/catalog-events.ts, which changes the provider's `skills` and the service's `providers`),
 *   and a mutation's answer names the feed's position (read-your-writes). Kept only while the gateway's copy of that
 *   subgraph's feed is in sync, and dropped on the event.
 * A field not named here is never kept.
 */
export const SHARED_ENTITY_CHANGES: Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, 'never' | 'feed'>>>>>
> = sharedEntityChanges();

/** sharedEntityChanges is SHARED_ENTITY_CHANGES's value (a function: SHARED_ENTITY_FIELDS, above it, is made of it). */
function sharedEntityChanges(): Record<string, Record<string, Record<string, 'never' | 'feed'>>> {
  return {
    user: { User: { id: 'never', displayName: 'feed', avatarUrl: 'feed' } },
    catalog: {
      Service: { id: 'never', name: 'never', description: 'never', category: 'never', providers: 'feed' },
      Category: { id: 'never', name: 'never' },
      User: { id: 'never', skills: 'feed' },
    },
  };
}

/**
 * CallerEntityType says how the gateway keeps, per caller, the fields of one entity type whose answer depends on who
 * asks (whether the caller may see the entity at all) but, for one caller, changes only with change-feed events
 * (contracts/feeds.ts):
 * - fields: each field's way of changing, as in SHARED_ENTITY_CHANGES (`never`, or `feed`: the owner's feed has an
 *   event for the entity in the transaction that changes it, and a mutation's answer names the feed's position);
 * - callerFeeds: the other subgraphs' feeds whose events about the caller's own `User` may change what the caller may
 *   see (catalog's `skills` events: a provider sees an open order of a service among their skills).
 */
export interface CallerEntityType {
  readonly fields: Readonly<Record<string, 'never' | 'feed'>>;
  readonly callerFeeds: readonly string[];
}

/**
 * CALLER_ENTITY_CHANGES names, per subgraph and entity type, the fields the gateway may keep per caller (the same
 * statement of the caller: user, session, roles, address, user agent) for `_entities` fetches that select only these
 * fields (and `__typename`), each a scalar without arguments: a chat delivery's `conversation.order { id status }` is
 * then answered without asking order, each participant their own answer. What is kept is dropped on the entity's event
 * in its owner's feed (an order's status or accepted offer changed), all of a caller's on an event about the caller's
 * `User` in a callerFeeds feed, and everything on an outage of either; it is kept only while those feeds are in sync.
 * The subgraph's rule of who may see what stays the subgraph's: an answer with an error or a null entity is never
 * kept, so a caller who may not see an order asks order each time. Each subgraph named here has a test that its
 * entry holds; a field whose answer comes to change otherwise must leave this list in the same change.
 */
export const CALLER_ENTITY_CHANGES: Readonly<Record<string, Readonly<Record<string, CallerEntityType>>>> = {
  order: { Order: { fields: { id: 'never', status: 'feed' }, callerFeeds: ['catalog'] } },
};
