import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { resumableQuery } from './subscriptions.js';

const schema = buildSchema(`
  type Query { ok: Boolean }
  type Message { id: ID! body: String! }
  type Tick { at: String! }
  type Subscription {
    messageAdded(conversationId: ID!, after: ID): Message!
    ticks: Tick!
  }
`);

describe('resumableQuery', () => {
  it('keeps a variable after and an id the client selected', () => {
    const r = resumableQuery(
      'subscription S($c: ID!, $after: ID) { messageAdded(conversationId: $c, after: $after) { id body } }',
      schema,
    )!;
    assert.equal(r.afterVariable, 'after');
    assert.equal(r.idKey, 'id');
    assert.equal(r.responseKey, 'messageAdded');
    assert.match(r.query, /messageAdded\(conversationId: \$c, after: \$after\) \{\s+id\s+body\s+\}/);
  });

  it('makes an inline or missing after a variable and selects id under an alias of its own', () => {
    const inline = resumableQuery(
      'subscription { m: messageAdded(conversationId: "c1", after: "m7") { body } }',
      schema,
    )!;
    assert.equal(inline.afterVariable, '__resumeAfter');
    assert.equal(inline.afterLiteral, 'm7');
    assert.equal(inline.idKey, '__resumeId');
    assert.equal(inline.responseKey, 'm');
    assert.match(inline.query, /subscription \(\$__resumeAfter: ID\)/);
    assert.match(inline.query, /messageAdded\(conversationId: "c1", after: \$__resumeAfter\)/);
    assert.match(inline.query, /__resumeId: id/);
    const missing = resumableQuery('subscription { messageAdded(conversationId: "c1") { body } }', schema)!;
    assert.equal(missing.afterLiteral, undefined);
    assert.match(missing.query, /after: \$__resumeAfter/);
  });

  it('leaves a field without after alone', () => {
    assert.equal(resumableQuery('subscription { ticks { at } }', schema), undefined);
  });
});
