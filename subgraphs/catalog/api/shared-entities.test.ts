import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getNamedType, isNonNullType, isObjectType, isScalarType, type GraphQLField } from 'graphql';
import {
  SHARED_ENTITY_CHANGES,
  SHARED_ENTITY_FIELDS,
  SHARED_ENTITY_REFERENCES,
} from '../../../contracts/shared-entities.js';
import { allow } from '../../../foundation/graphql/shield.js';
import { catalogPermissions } from './permissions.js';
import { buildCatalogSchema } from './schema.js';

// The gateway fetches these fields once for many callers and keeps them (SHARED_ENTITY_CHANGES): each must answer
// every caller alike, so none may carry a rule of its own or take a required argument (a fetch that passes one is not
// kept: only the default page of `providers` is); each is a scalar, or a reference (one or a list) to entities whose
// own fields are shared (SHARED_ENTITY_REFERENCES). Services and categories never change; a provider's skills and a
// service's providers change only with a `skills` event of the catalog feed (store/catalog-feed.test.ts).
describe("the catalog subgraph's shared entity fields (contracts/shared-entities.ts)", () => {
  it('are scalars, or references to its shared entities, without required arguments, of types open to all', async () => {
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
        assert.ok(
          found.args.every((arg) => !isNonNullType(arg.type)),
          `${typeName}.${field} takes no required argument`,
        );
        const referenced = references[typeName]?.[field];
        if (referenced === undefined) {
          assert.equal(found.args.length, 0, `${typeName}.${field} takes no argument`);
          assert.ok(isScalarType(getNamedType(found.type)), `${typeName}.${field} is a scalar`);
          continue;
        }
        assert.equal(getNamedType(found.type).name, referenced, `${typeName}.${field} references ${referenced}`);
        assert.ok(shared[referenced], `${referenced}, which ${typeName}.${field} references, is a shared entity`);
      }
    }
    for (const [typeName, fields] of Object.entries(references))
      for (const field of Object.keys(fields))
        assert.ok(shared[typeName]?.includes(field), `the reference ${typeName}.${field} is a shared field`);
  });

  it('are kept as never changing or followed through the feed, which holds while the mutations are these', async () => {
    const followed = Object.entries(SHARED_ENTITY_CHANGES.catalog ?? {}).flatMap(([type, fields]) =>
      Object.entries(fields)
        .filter(([, change]) => change === 'feed')
        .map(([field]) => `${type}.${field}`),
    );
    assert.deepEqual(followed.sort(), ['Service.providers', 'User.skills']);
    const mutations = Object.keys((await buildCatalogSchema()).getMutationType()?.getFields() ?? {}).sort();
    // A mutation that changes a service or a category must come with a change event and `feed` keeping; one that
    // changes skills (and so providers) must write a `skills` event, as addSkill and removeSkill do.
    assert.deepEqual(mutations, ['addSkill', 'createCategory', 'createService', 'removeSkill']);
  });
});
