import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { Lexer, parse, Source, TokenKind } from 'graphql';
import { isRefused, loadManifest, OperationAdmission, sha256Hex } from './operation-admission.js';
import {
  DocumentChecker,
  isRefusal,
  measureDocument,
  sizingVariables,
  surelyOverTokens,
  withoutSuggestions,
  type OperationLimits,
} from './operation-limits.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const schema = Supergraph.build(readFileSync(`${root}schema/supergraph.graphql`, 'utf8'))
  .apiSchema()
  .toGraphQLJSSchema();
const manifestPath = `${root}schema/persisted-query-manifest.json`;

/** LIMITS are the gateway's defaults (gateway/main.ts). */
const LIMITS: OperationLimits = {
  maxTokens: 1000,
  maxDepth: 12,
  maxAliases: 20,
  maxDirectives: 20,
  maxRootFields: 20,
  maxCost: 100_000,
  maxErrors: 10,
  defaultListSize: 20,
  maxListSize: 100,
};

const checker = () => new DocumentChecker(schema, LIMITS, { introspection: true, suggestions: false });

/** deep is a query exactly `levels` deep, through single objects only (so its cost stays small). */
function deep(levels: number): string {
  let inner = 'id';
  let depth = 1;
  if ((levels - 1 - depth) % 2 === 1) {
    inner = 'service { id }';
    depth = 2;
  }
  while (depth + 2 <= levels - 1) {
    inner = `acceptedOffer { order { ${inner} } }`;
    depth += 2;
  }
  return `query { order(id: "1") { ${inner} } }`;
}

function over(text: string, variables: Record<string, unknown> = {}) {
  const result = checker().check(text, variables);
  assert.ok(isRefusal(result), 'refused');
  assert.equal(result.errors.length, 1);
  return result.errors[0]!;
}

function passes(text: string, variables: Record<string, unknown> = {}) {
  const result = checker().check(text, variables);
  assert.ok(!isRefusal(result), `passes: ${isRefusal(result) ? result.errors.map((e) => e.message).join('; ') : ''}`);
  return result;
}

describe('operation limits', () => {
  it('every registered operation passes with room to spare, at the largest page sizes the contract allows', () => {
    const manifest = loadManifest(manifestPath);
    assert.ok(manifest.size > 0);
    for (const op of manifest.values()) {
      const m = measureDocument(schema, op.document, { first: 100, last: 100 }, LIMITS);
      const where = `${op.name}: ${JSON.stringify(m)}`;
      assert.ok(m.depth <= LIMITS.maxDepth - 3, where);
      assert.ok(m.aliases <= LIMITS.maxAliases / 2, where);
      assert.ok(m.directives <= LIMITS.maxDirectives / 2, where);
      assert.ok(m.rootFields <= LIMITS.maxRootFields / 2, where);
      assert.ok(m.cost <= LIMITS.maxCost / 1.5, where);
      const result = checker().check(op.body, { first: 100, last: 100 });
      assert.ok(!isRefusal(result), `${op.name}: ${isRefusal(result) ? result.errors[0]!.message : ''}`);
    }
    const dashboard = [...manifest.values()].find((op) => op.name === 'CustomerDashboard')!;
    assert.equal(measureDocument(schema, dashboard.document, {}, LIMITS).depth, 8);
  });

  it('cost multiplies lists by first/last or the default page size', () => {
    const cheap = passes(
      'query { me { orders(first: 5) { edges { node { offers(first: 5) { provider { offers(first: 5) { edges { node { id } } } } } } } } } }',
    );
    assert.ok(cheap.measures.cost < 2000, String(cheap.measures.cost));
    const error = over(
      'query { me { orders(first: 100) { edges { node { offers(first: 100) { provider { offers(first: 100) { edges { node { id } } } } } } } } } }',
    );
    assert.equal(error.extensions.code, 'OPERATION_TOO_COMPLEX');
    assert.equal(error.extensions.limit, 'cost');
    assert.equal(error.extensions.max, LIMITS.maxCost);
    // A variable sizes the list as a literal would; a page size past the contract's largest counts as the largest.
    const text =
      'query($n: Int) { me { orders(first: $n) { edges { node { offers(first: $n) { provider { offers(first: $n) { edges { node { id } } } } } } } } } }';
    passes(text, { n: 5 });
    assert.equal(over(text, { n: 100 }).extensions.limit, 'cost');
    assert.equal(over(text, { n: 1_000_000 }).extensions.limit, 'cost');
  });

  it('a checked document keeps its measures per page size: each size asked gives its own figure', () => {
    const one = checker();
    const text =
      'query($n: Int, $m: Int) { me { orders(first: $n) { edges { node { ...Offers } } } } }\n' +
      'fragment Offers on Order { offers(first: $m) { provider { offers(first: $n) { edges { node { id } } } } } }';
    assert.deepEqual(sizingVariables(parse(text)).sort(), ['m', 'n'], "a fragment's page sizes count");
    const sizes = [
      { n: 5, m: 5 },
      { n: 100, m: 100 },
      { n: 5, m: 100 },
      { n: 5 },
      { n: 5, m: null },
      { n: 5, m: 5 },
      { n: 100, m: 100 },
      { n: '100', m: 100 },
    ];
    for (const variables of [...sizes, ...sizes]) {
      const expected = measureDocument(schema, parse(text), variables, LIMITS);
      const result = one.check(text, variables);
      const label = JSON.stringify(variables);
      if (expected.cost > LIMITS.maxCost) {
        assert.ok(isRefusal(result), label);
        assert.equal(result.errors[0]!.extensions.limit, 'cost', label);
      } else {
        assert.ok(!isRefusal(result), label);
        assert.deepEqual(result.measures, expected, label);
      }
    }
  });

  // Each limit just under and just over: the answer is one error naming the limit and its value.
  const table: { limit: string; under: string; over: string }[] = [
    { limit: 'depth', under: deep(12), over: deep(13) },
    {
      limit: 'aliases',
      under: `{ categories { ${Array.from({ length: 20 }, (_, i) => `a${i}: id`).join(' ')} } }`,
      over: `{ categories { ${Array.from({ length: 21 }, (_, i) => `a${i}: id`).join(' ')} } }`,
    },
    {
      limit: 'directives',
      under: `{ categories { id ${'@include(if: true) '.repeat(20)} } }`,
      over: `{ categories { id ${'@include(if: true) '.repeat(21)} } }`,
    },
    {
      limit: 'rootFields',
      under: `{ ${Array.from({ length: 20 }, (_, i) => (i === 0 ? 'categories { id }' : `c${i}: categories { id }`)).join(' ')} }`,
      over: `{ categories { id } ${Array.from({ length: 20 }, (_, i) => `c${i}: categories { id }`).join(' ')} }`,
    },
    {
      limit: 'tokens',
      under: `{ categories { ${'id '.repeat(1000 - 5)}} }`,
      over: `{ categories { ${'id '.repeat(1000 - 4)}} }`,
    },
  ];
  for (const row of table) {
    it(`${row.limit}: just under passes, just over is one OPERATION_TOO_COMPLEX`, () => {
      const under = checker().check(row.under);
      assert.ok(
        !isRefusal(under) || under.errors[0]!.extensions.code !== 'OPERATION_TOO_COMPLEX',
        `under: ${isRefusal(under) ? under.errors[0]!.message : ''}`,
      );
      const error = over(row.over);
      assert.equal(error.extensions.code, 'OPERATION_TOO_COMPLEX');
      assert.equal(error.extensions.limit, row.limit);
      assert.match(error.message, new RegExp(`${row.limit} limit of ${String(error.extensions.max)}`));
      assert.ok(JSON.stringify(error.toJSON()).length < 1024);
    });
  }

  it('measures a fragment once, however often it is spread', () => {
    const fragments = Array.from(
      { length: 40 },
      (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const text = `query { ...F0 }\n${fragments}\nfragment F40 on Query { categories { id } }`;
    const m = measureDocument(schema, parse(text), {}, LIMITS);
    assert.equal(m.rootFields, 1);
    assert.ok(m.cost >= 2 ** 40, 'the expansion is counted');
    assert.equal(over(text).extensions.limit, 'cost');
  });

  it('caps validation errors and drops suggestions when told to', () => {
    const result = checker().check(`{ ${Array.from({ length: 50 }, (_, i) => `x${i}: categorie { id }`).join(' ')} }`);
    // 50 aliases is over the aliases limit first: one error.
    assert.ok(isRefusal(result) && result.errors.length === 1);
    const invalid = checker().check(`{ categories { ${Array.from({ length: 15 }, (_, i) => `nope${i}`).join(' ')} } }`);
    assert.ok(isRefusal(invalid));
    assert.equal(invalid.errors.length, LIMITS.maxErrors);
    for (const e of invalid.errors) {
      assert.equal(e.extensions.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.doesNotMatch(e.message, /Did you mean/);
    }
    const hinted = new DocumentChecker(schema, LIMITS, { introspection: true, suggestions: true }).check(
      '{ categorie { id } }',
    );
    assert.ok(isRefusal(hinted) && /Did you mean/.test(hinted.errors[0]!.message));
    assert.equal(
      withoutSuggestions('Cannot query field "x" on type "Query". Did you mean "categories"?'),
      'Cannot query field "x" on type "Query".',
    );
  });

  it('refuses introspection when it is off', () => {
    const off = new DocumentChecker(schema, LIMITS, { introspection: false, suggestions: false }).check(
      '{ __schema { types { name } } }',
    );
    assert.ok(isRefusal(off) && off.errors[0]!.extensions.code === 'GRAPHQL_VALIDATION_FAILED');
    passes(
      '{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }',
    );
  });
});

describe('operation admission', () => {
  const manifest = loadManifest(manifestPath);
  const login = [...manifest.values()].find((op) => op.name === 'Login')!;
  const any = () => new OperationAdmission(manifest, checker(), 'any');
  const registered = () => new OperationAdmission(manifest, checker(), 'registered');
  const hash = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

  it('runs a registered operation by its id, in either form, or by its full text', () => {
    for (const admission of [any(), registered()]) {
      for (const request of [hash(login.id), { documentId: `sha256:${login.id}` }, { query: login.body }]) {
        const result = admission.admit(request);
        assert.ok(!isRefused(result), JSON.stringify(request));
        assert.equal(result.query, login.body);
        assert.ok(result.registered);
        assert.deepEqual(result.rootFields, ['login']);
      }
    }
  });

  it('in registered mode refuses other documents and unknown ids, and registers nothing', () => {
    const admission = registered();
    const text = '{ categories { id } }';
    const other = admission.admit({ query: text });
    assert.ok(isRefused(other) && other.errors[0]!.extensions.code === 'OPERATION_NOT_REGISTERED');
    const unknown = admission.admit(hash(sha256Hex(text)));
    assert.ok(isRefused(unknown) && unknown.errors[0]!.extensions.code === 'PERSISTED_QUERY_NOT_FOUND');
    const withText = admission.admit({ query: text, ...hash(sha256Hex(text)) });
    assert.ok(isRefused(withText) && withText.errors[0]!.extensions.code === 'PERSISTED_QUERY_NOT_FOUND');
    const after = admission.admit(hash(sha256Hex(text)));
    assert.ok(isRefused(after) && after.errors[0]!.extensions.code === 'PERSISTED_QUERY_NOT_FOUND');
    const badId = admission.admit({ documentId: 'sha256:XYZ' });
    assert.ok(isRefused(badId) && badId.errors[0]!.extensions.code === 'BAD_REQUEST');
  });

  it('in any mode runs ad hoc documents within the limits, and automatic persisted queries measured on every run', () => {
    const admission = any();
    const text =
      'query($n: Int) { me { orders(first: $n) { edges { node { offers(first: $n) { provider { offers(first: $n) { edges { node { id } } } } } } } } } }';
    const id = sha256Hex(text);
    const notYet = admission.admit(hash(id));
    assert.ok(isRefused(notYet) && notYet.errors[0]!.extensions.code === 'PERSISTED_QUERY_NOT_FOUND');
    assert.ok(!isRefused(admission.admit({ query: text, variables: { n: 2 }, ...hash(id) })));
    assert.ok(!isRefused(admission.admit({ variables: { n: 2 }, ...hash(id) })));
    const big = admission.admit({ variables: { n: 100 }, ...hash(id) });
    assert.ok(isRefused(big) && big.errors[0]!.extensions.code === 'OPERATION_TOO_COMPLEX');
    const mismatch = admission.admit({ query: '{ categories { id } }', ...hash(id) });
    assert.ok(isRefused(mismatch) && mismatch.errors[0]!.extensions.code === 'BAD_REQUEST');
  });
});

describe('surelyOverTokens', () => {
  /** tokens counts a document's tokens as graphql's lexer does. */
  const tokens = (text: string) => {
    const lexer = new Lexer(new Source(text));
    let n = 0;
    while (lexer.advance().kind !== TokenKind.EOF) n++;
    return n;
  };

  it('never counts more tokens than graphql does, and counts plain documents exactly', () => {
    const documents = [
      ...[...loadManifest(manifestPath).values()].map((op) => op.body),
      'query Q($a: Int = -1.5e+3, $b: [String!]!) { x(a: $a, s: "he said \\"{}\\" ok", b: """block { } """) @include(if: true) { ...F ... on T { y } } } # { { {\nfragment F on T { z }',
      '{ "unterminated',
    ];
    for (const text of documents) {
      let real = 0;
      try {
        real = tokens(text);
      } catch {
        real = Infinity;
      }
      assert.equal(surelyOverTokens(text, real), false, text.slice(0, 60));
    }
    const plain = `{ categories { ${'name '.repeat(3000)}} }`;
    assert.equal(surelyOverTokens(plain, tokens(plain) - 1), true);
    assert.equal(surelyOverTokens(plain, tokens(plain)), false);
  });

  it('refuses a long document before parsing it, with the tokens limit', () => {
    const checker = new DocumentChecker(schema, LIMITS, { introspection: true, suggestions: true });
    const refused = checker.check(
      `{ ${Array.from({ length: 1500 }, (_, i) => `a${i}: categories { name }`).join(' ')} }`,
    );
    assert.ok(isRefusal(refused));
    assert.equal(refused.errors[0]!.extensions.limit, 'tokens');
  });
});
