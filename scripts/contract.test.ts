import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { Kind, validate } from 'graphql';
import { operationId, readOperations } from './operations.js';
import { ROOT } from './supergraph.js';

describe('the registered operations', () => {
  const schema = Supergraph.build(readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8'))
    .apiSchema()
    .toGraphQLJSSchema();
  const operations = readOperations();

  it("are the contract's documents, each named once, with ids that are the sha256 of their bodies", () => {
    assert.ok(operations.length >= 30, `only ${operations.length} operations`);
    for (const op of operations) assert.equal(op.id, operationId(op.body));
    assert.equal(new Set(operations.map((o) => o.id)).size, operations.length);
  });

  for (const op of operations) {
    it(`${op.file}: ${op.name} validates against the supergraph`, () => {
      const errors = validate(schema, { kind: Kind.DOCUMENT, definitions: [op.definition, ...op.fragments] });
      assert.deepEqual(
        errors.map((e) => e.message),
        [],
      );
    });
  }
});
