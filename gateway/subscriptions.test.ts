import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { selectsOnly } from './entity-cache.js';
import { resumableQuery, SentOnce } from './subscriptions.js';

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

describe('selectsOnly', () => {
  const shared = { User: ['id', 'displayName'] };
  const cases: [string, boolean][] = [
    ['query($representations:[_Any!]!){_entities(representations:$representations){...on User{displayName}}}', true],
    ['query($r:[_Any!]!){_entities(representations:$r){__typename ...on User{id name:displayName __typename}}}', true],
    ['query($r:[_Any!]!){_entities(representations:$r){...on User{displayName email}}}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...on Order{id}}}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...on User{displayName @include(if: true)}}}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...on User{orders(first: 1){id}}}}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...U}} fragment U on User{displayName}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...on User{displayName}} me{id}}', false],
    ['mutation($r:[_Any!]!){_entities(representations:$r){...on User{displayName}}}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...{displayName}}}', false],
    ['query($r:[_Any!]!){all:_entities(representations:$r){...on User{displayName}}}', false],
    ['query($r:[_Any!]!){_entities(representations:$r){...on constructor{displayName}}}', false],
    ['{ not a document', false],
  ];
  for (const [query, expected] of cases)
    it(`${expected ? 'shares' : 'does not share'} ${query.slice(query.indexOf('{_entities'))}`, () =>
      assert.equal(selectsOnly(query, shared), expected));
});

describe('SentOnce', () => {
  it('is written into the first message only, and then no longer held', () => {
    const payload = { query: 'subscription { x }', extensions: { gatewayToken: new SentOnce('statement') } };
    assert.equal(JSON.stringify(payload), '{"query":"subscription { x }","extensions":{"gatewayToken":"statement"}}');
    assert.equal(JSON.stringify(payload), '{"query":"subscription { x }","extensions":{}}');
  });
});
