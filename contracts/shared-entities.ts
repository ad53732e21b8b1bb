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
