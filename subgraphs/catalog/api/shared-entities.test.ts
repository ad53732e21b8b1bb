import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getNamedType, isListType, isNonNullType, isObjectType, isScalarType, type GraphQLField } from 'graphql';
import {
  SHARED_ENTITY_CHANGES,
  SHARED_ENTITY_FIELDS,
  SHARED_ENTITY_REFERENCES,
} from '../../../contracts/shared-entities.js';
import { allow } from '../../../foundation/graphql/shield.js';
import { catalogPermissions } from './permissions.js';
import { buildCatalogSchema } from './schema.js';

// The gateway fetches these fields once for many callers and keeps them (SHARED_ENTITY_CHANGES): each must answer
// every caller alike, so none may carry a rule of its own or take an argument; each is a scalar, or a list of entities
// whose own fields are shared (SHARED_ENTITY_REFERENCES). Services and categories never change; a provider's skills
// change only with an event of the catalog feed (store/catalog-feed.test.ts).
describe("the catalog subgraph's shared entity fields (contracts/shared-entities.ts)", () => {
  it('are scalars, or lists of its shared entities, without arguments, of types every caller may read', async () => {
    const schema = await buildCatalogSchema();
    const shared = SHARED_ENTITY_FIELDS.catalog ?? {};
    const references = SHARED_ENTITY_REFERENCES.catalog ?? {};
    assert.deepEqual(Object.keys(shared).sort(), ['Category', 'Service', 'User']);
    for (const [typeName, fields] of Object.entries(shared)) {
      const type = schema.getType(typeName);
      assert.ok(isObjectType(type), `${typeName} is an object type of the catalog subgraph`);
      assert.equal((catalogPermissions as Record<string, unknown>)[typeName], allow, `${typeName} is open to all`);
      for (const field of fields) {
        const found: GraphQLField<unknown, unknown> | undefined = type.getFields()[field];
        assert.ok(found, `${typeName}.${field} exists`);
        assert.equal(found.args.length, 0, `${typeName}.${field} takes no argument`);
        const listed = references[typeName]?.[field];
        if (listed === undefined) {
          assert.ok(isScalarType(getNamedType(found.type)), `${typeName}.${field} is a scalar`);
          continue;
        }
        const list = isNonNullType(found.type) ? found.type.ofType : found.type;
        assert.ok(isListType(list), `${typeName}.${field} is a list`);
        assert.equal(getNamedType(found.type).name, listed, `${typeName}.${field} lists ${listed}`);
        assert.ok(shared[listed], `${listed}, which ${typeName}.${field} lists, is a shared entity`);
      }
    }
    for (const [typeName, fields] of Object.entries(references))
      for (const field of Object.keys(fields))
        assert.ok(shared[typeName]?.includes(field), `the reference ${typeName}.${field} is a shared field`);
  });

  it('are kept as never changing or followed through the feed, which holds while the mutations are these', async () => {
    assert.deepEqual(SHARED_ENTITY_CHANGES.catalog, { Service: 'never', Category: 'never', User: 'feed' });
    const mutations = Object.keys((await buildCatalogSchema()).getMutationType()?.getFields() ?? {}).sort();
    // A mutation that changes a service or a category must come with a change event and `feed` keeping; one that
    // changes a provider's skills must write a `skills` event, as addSkill and removeSkill do.
    assert.deepEqual(mutations, ['addSkill', 'createCategory', 'createService', 'removeSkill']);
  });
});
