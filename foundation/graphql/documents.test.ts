import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { CheckedDocuments } from './documents.js';

const schema = buildSchema(`type Query { a: Int } type Subscription { ticks(from: Int): Int }`);

describe('checked documents', () => {
  it('parses and validates a text once and gives the same document after', () => {
    const documents = new CheckedDocuments(schema);
    const first = documents.get('subscription { ticks(from: 1) }');
    assert.ok(!Array.isArray(first));
    assert.equal(documents.get('subscription { ticks(from: 1) }'), first);
  });

  it('gives parse and validation errors, and keeps neither', () => {
    const documents = new CheckedDocuments(schema);
    const unparsed = documents.get('subscription { ticks(');
    assert.ok(Array.isArray(unparsed));
    assert.match((unparsed as readonly Error[])[0]!.message, /Syntax Error/);
    const invalid = documents.get('subscription { nope }');
    assert.ok(Array.isArray(invalid));
    assert.match((invalid as readonly Error[])[0]!.message, /Cannot query field "nope"/);
    assert.ok(Array.isArray(documents.get('subscription { nope }')));
  });

  it('keeps at most its size, dropping the oldest', () => {
    const documents = new CheckedDocuments(schema, 2);
    const a = documents.get('{ a }');
    documents.get('{ b: a }');
    documents.get('{ c: a }');
    assert.notEqual(documents.get('{ a }'), a, 'the oldest was dropped and parsed again');
  });
});
