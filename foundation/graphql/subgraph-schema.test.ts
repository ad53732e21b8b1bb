import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'graphql';
import { nulTextArgument } from './subgraph-schema.js';

describe('nulTextArgument (NUL characters checked once per request, the document read once)', () => {
  it('names the argument path of a variable whose text holds a NUL character', () => {
    const document = parse('mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id } }');
    assert.equal(nulTextArgument(document, { i: { displayName: 'a\u0000b' } }), 'input.displayName');
    assert.equal(nulTextArgument(document, { i: { displayName: 'ab', tags: ['x', 'y\u0000'] } }), 'input.tags');
    assert.equal(nulTextArgument(document, { i: { displayName: 'ab' } }), null);
  });

  it('finds string literals, variables nested in literals, defaults and arguments below the root', () => {
    assert.equal(nulTextArgument(parse('{ a(text: "x\\u0000") }'), undefined), 'text');
    assert.equal(nulTextArgument(parse('query($n: String) { a(input: { name: $n }) }'), { n: '\u0000' }), 'input.name');
    assert.equal(
      nulTextArgument(parse('query($n: String = "\\u0000") { a(input: { list: [$n] }) }'), {}),
      'input.list',
    );
    assert.equal(nulTextArgument(parse('{ a { b(search: "ok") { c(q: "z\\u0000") } } }'), undefined), 'q');
    assert.equal(nulTextArgument(parse('query { ...F } fragment F on Query { a(s: "\\u0000") }'), undefined), 's');
    assert.equal(nulTextArgument(parse('query($n: String) { a(s: $n, t: "fine") }'), { n: 'fine' }), null);
  });

  it("reads each request's variables against a document it has read before, in document order", () => {
    const document = parse('query($a: String, $b: String = "\\u0000") { x(p: $a, q: { r: $b }) y(s: "ok") }');
    assert.equal(nulTextArgument(document, { a: 'fine', b: 'fine' }), null);
    assert.equal(nulTextArgument(document, { a: 'fine' }), 'q.r', 'the default applies when the variable is not sent');
    assert.equal(nulTextArgument(document, { a: '\u0000', b: 'fine' }), 'p');
    assert.equal(nulTextArgument(document, { a: ['ok', { deep: '\u0000' }], b: '\u0000' }), 'p.deep');
    assert.equal(nulTextArgument(document, { a: 'fine', b: 'fine' }), null, 'nothing of an earlier request stays');
    const literalFirst = parse('query($a: String) { x(p: "\\u0000") y(q: $a) }');
    assert.equal(nulTextArgument(literalFirst, { a: 'fine' }), 'p');
    assert.equal(nulTextArgument(literalFirst, { a: 'fine' }), 'p');
  });
});
