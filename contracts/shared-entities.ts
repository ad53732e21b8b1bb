/**
 * SHARED_ENTITY_FIELDS names, per subgraph and entity type, the fields that
 * every caller (signed in or not) gets the same answer for when the entity is
 * reached by reference: the subgraph finds the entity without regard to the
 * caller and guards none of these fields by the caller's rights. The gateway
 * answers the follow-up fetches of several callers' subscription events with
 * one `_entities` call when each selects only these fields (and `__typename`);
 * every other fetch is merged only with fetches of the same caller. Each
 * subgraph named here has a test that its entry holds; a field whose answer
 * comes to depend on the caller must leave this list in the same change.
 */
export const SHARED_ENTITY_FIELDS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  user: { User: ['id', 'displayName', 'avatarUrl'] },
  catalog: { Service: ['id', 'name', 'description'], Category: ['id', 'name'] },
};

/**
 * SHARED_ENTITY_CHANGES says, per subgraph of SHARED_ENTITY_FIELDS, how the
 * gateway learns that a shared field changed, and so whether it may keep what
 * it fetched (gateway/entity-cache.ts):
 * - `never`: the subgraph never changes these fields once the entity exists
 *   (catalog's services and categories: its runtime role may not update or
 *   delete them). Kept until the gateway's time to live or eviction.
 * - `user-feed`: the subgraph writes a `profile` event to the user feed
 *   (contracts/session-events.ts) in the transaction that changes one, and a
 *   mutation's answer names the feed's position (read-your-writes). Kept only
 *   while the gateway's copy of the feed is in sync, and dropped on the event.
 * A subgraph not named here is never kept.
 */
export const SHARED_ENTITY_CHANGES: Readonly<Record<string, 'never' | 'user-feed'>> = {
  user: 'user-feed',
  catalog: 'never',
};
