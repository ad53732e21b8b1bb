/**
 * SHARED_ENTITY_FIELDS names, per subgraph and entity type, the fields that
 * every caller (signed in or not) gets the same answer for when the entity is
 * reached by reference: the subgraph finds the entity without regard to the
 * caller and guards none of these fields by the caller's rights. The gateway
 * answers the follow-up fetches of several callers' subscription events with
 * one `_entities` call when each selects only these fields (and `__typename`),
 * and keeps their values between requests (SHARED_ENTITY_CHANGES); every other
 * fetch is merged only with fetches of the same caller. A field is a scalar
 * without arguments, or a list of references named in SHARED_ENTITY_REFERENCES.
 * Each subgraph named here has a test that its entry holds; a field whose
 * answer comes to depend on the caller must leave this list in the same change.
 */
export const SHARED_ENTITY_FIELDS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  user: { User: ['id', 'displayName', 'avatarUrl'] },
  catalog: { Service: ['id', 'name', 'description'], Category: ['id', 'name'], User: ['skills'] },
};

/**
 * SHARED_ENTITY_REFERENCES names, per subgraph, the shared fields that are lists of the same subgraph's entities
 * (without arguments): `User.skills` is a list of catalog's `Service`. A fetch may select such a field only with
 * shared fields of the entity it lists; the gateway keeps the listed entities' ids, and their fields as that
 * entity's own.
 */
export const SHARED_ENTITY_REFERENCES: Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>
> = {
  catalog: { User: { skills: 'Service' } },
};

/**
 * SHARED_ENTITY_CHANGES says, per subgraph and type of SHARED_ENTITY_FIELDS, how the gateway learns that a shared
 * field changed, and so whether it may keep what it fetched (gateway/entity-cache.ts):
 * - `never`: the subgraph never changes these fields once the entity exists (catalog's services and categories: its
 *   runtime role may not update or delete them). Kept until the gateway's time to live or eviction.
 * - `feed`: the subgraph writes an event to its change feed (contracts/feeds.ts) in the transaction that changes one
 *   (user: a `profile` event of the session feed, contracts/session-events.ts; catalog: a `skills` event,
 *   contracts/catalog-events.ts), and a mutation's answer names the feed's position (read-your-writes). Kept only while
 *   the gateway's copy of that subgraph's feed is in sync, and dropped on the event.
 * A type not named here is never kept.
 */
export const SHARED_ENTITY_CHANGES: Readonly<Record<string, Readonly<Record<string, 'never' | 'feed'>>>> = {
  user: { User: 'feed' },
  catalog: { Service: 'never', Category: 'never', User: 'feed' },
};
