import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { ROOT } from './supergraph.js';

/** CONTRACT is the frontends' operations, in shared/ beside the repository. */
const CONTRACT = join(ROOT, '..', 'shared', 'contract', 'operations');

/** NOT_YET maps the contract's operations that a later issue brings to that issue; they are reported as to-do. */
const NOT_YET: Record<string, string> = {
};

describe('the frontend contract', () => {
  const schema = Supergraph.build(readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8')).apiSchema().toGraphQLJSSchema();
  for (const file of readdirSync(CONTRACT).filter((f) => f.endsWith('.graphql')).sort()) {
    const document = parse(readFileSync(join(CONTRACT, file), 'utf8'));
    for (const operation of document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)) {
      const name = operation.name!.value;
      it(`${file}: ${name} validates against the supergraph`, { todo: NOT_YET[name] }, () => {
        const errors = validate(schema, { kind: Kind.DOCUMENT, definitions: [operation] });
        assert.deepEqual(errors.map((e) => e.message), []);
      });
    }
  }
});
