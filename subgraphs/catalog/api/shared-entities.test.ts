import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getNamedType, isObjectType, isScalarType, type GraphQLField } from 'graphql';
import { SHARED_ENTITY_CHANGES, SHARED_ENTITY_FIELDS } from '../../../contracts/shared-entities.js';
import { allow } from '../../../foundation/graphql/shield.js';
import { catalogPermissions } from './permissions.js';
import { buildCatalogSchema } from './schema.js';

// The gateway fetches these fields once for many callers and keeps them (SHARED_ENTITY_CHANGES: `never`): each must
// answer every caller alike and never change, so none may carry a rule of its own, take an argument or be an object.
describe("the catalog subgraph's shared entity fields (contracts/shared-entities.ts)", () => {
  it('are scalar fields without arguments of its entities that every caller may read', async () => {
    const schema = await buildCatalogSchema();
    const shared = SHARED_ENTITY_FIELDS.catalog ?? {};
    assert.deepEqual(Object.keys(shared).sort(), ['Category', 'Service']);
    for (const [typeName, fields] of Object.entries(shared)) {
      const type = schema.getType(typeName);
      assert.ok(isObjectType(type), `${typeName} is an object type of the catalog subgraph`);
      assert.equal((catalogPermissions as Record<string, unknown>)[typeName], allow, `${typeName} is open to all`);
      for (const field of fields) {
        const found: GraphQLField<unknown, unknown> | undefined = type.getFields()[field];
        assert.ok(found, `${typeName}.${field} exists`);
        assert.equal(found.args.length, 0, `${typeName}.${field} takes no argument`);
        assert.ok(isScalarType(getNamedType(found.type)), `${typeName}.${field} is a scalar`);
      }
    }
  });

  it('are kept as never changing, which only holds while the mutations create and never update', async () => {
    assert.equal(SHARED_ENTITY_CHANGES.catalog, 'never');
    const mutations = Object.keys((await buildCatalogSchema()).getMutationType()?.getFields() ?? {}).sort();
    // A mutation that changes a service or a category must come with a change event and `user-feed`-like keeping.
    assert.deepEqual(mutations, ['addSkill', 'createCategory', 'createService', 'removeSkill']);
  });
});
