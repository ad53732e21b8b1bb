/**
 * SHARED_ENTITY_FIELDS names, per subgraph and entity type, the fields that
 * every signed-in caller gets the same answer for when the entity is reached
 * by reference: the subgraph finds the entity without regard to the caller
 * and guards none of these fields by the caller's rights. The gateway answers
 * the follow-up fetches of several callers' subscription events with one
 * `_entities` call when each selects only these fields (and `__typename`);
 * every other fetch is merged only with fetches of the same caller. Each
 * subgraph named here has a test that its entry holds; a field whose answer
 * comes to depend on the caller must leave this list in the same change.
 */
export const SHARED_ENTITY_FIELDS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  user: { User: ['id', 'displayName', 'avatarUrl'] },
};
