import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isObjectType } from 'graphql';
import { SHARED_ENTITY_FIELDS } from '../../../contracts/shared-entities.js';
import { allow } from '../../../foundation/graphql/shield.js';
import { userPermissions } from './permissions.js';
import { buildUserSchema } from './schema.js';

// The gateway fetches these fields once for many callers' subscription events: each must answer every signed-in
// caller alike, so none may carry a rule of its own (an owner's or admin's).
describe("the user subgraph's shared entity fields (contracts/shared-entities.ts)", () => {
  it('are fields of its entities that every caller may read', async () => {
    const schema = await buildUserSchema();
    const shared = SHARED_ENTITY_FIELDS.user ?? {};
    assert.ok(Object.keys(shared).length > 0);
    for (const [typeName, fields] of Object.entries(shared)) {
      const type = schema.getType(typeName);
      assert.ok(isObjectType(type), `${typeName} is an object type of the user subgraph`);
      const rules = (userPermissions as Record<string, unknown>)[typeName] as Record<string, unknown>;
      for (const field of fields) {
        assert.ok(type.getFields()[field], `${typeName}.${field} exists`);
        assert.equal(rules[field] ?? rules['*'], allow, `${typeName}.${field} is allowed to every caller`);
      }
    }
  });

  it('exclude the fields only an owner or an admin may read', () => {
    const shared = SHARED_ENTITY_FIELDS.user?.User ?? [];
    for (const field of Object.keys(userPermissions.User).filter((f) => f !== '*'))
      assert.ok(!shared.includes(field), `User.${field} has a rule of its own`);
  });
});
