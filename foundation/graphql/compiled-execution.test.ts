import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { createLogger } from '../telemetry/logger.js';
import type { ScopedContext } from './errors.js';
import { DateTimeScalar } from './scalars.js';
import { createSubgraphServer, FEDERATION_LINK } from './subgraph-schema.js';
import { compiledExecution } from './compiled-execution.js';

const typeDefs = parse(`${FEDERATION_LINK}
  scalar DateTime
  enum Status { OPEN ACCEPTED }
  interface Node { id: ID! }
  type Item implements Node @key(fields: "id") {
    id: ID!
    name: String!
    status: Status!
    at: DateTime!
    tags: [String!]!
    grid: [[Int]]
    broken: String!
    brokenList: [Item!]
    maybe: String
    nested(depth: Int = 1): Item
    failsWith(code: String!): String
    badStatus: Status
    badDate: DateTime
  }
  type Note implements Node { id: ID! text: String }
  union Thing = Item | Note
  input Filter { names: [String!], status: Status = OPEN, since: DateTime }
  type Query {
    item(id: ID!): Item
    items(filter: Filter, first: Int = 2): [Item!]!
    things: [Thing!]!
    nodes: [Node!]!
    count(n: Int!): Int!
    echo(text: String!, times: Int = 1): [String!]!
    slow: String
  }
`);

const ITEMS = [
  { id: 'a', name: 'Alpha', status: 'OPEN', at: new Date('2026-01-01T00:00:00Z'), tags: ['x', 'y'] },
  { id: 'b', name: 'Beta', status: 'ACCEPTED', at: new Date('2026-02-01T00:00:00Z'), tags: [] },
  { id: 'c', name: 'Gamma', status: 'OPEN', at: new Date('2026-03-01T00:00:00Z'), tags: ['z'] },
];
const byId = (id: string) => ITEMS.find((i) => i.id === id) ?? null;

const resolvers = {
  DateTime: DateTimeScalar,
  Item: {
    __resolveReference: async (ref: { id: string }) => {
      if (ref.id === 'gone') throw new NotFoundError('Item', ref.id);
      return byId(ref.id);
    },
    grid: () => [[1, 2], [null], []],
    broken: () => null,
    brokenList: () => [ITEMS[0], null, ITEMS[1]],
    maybe: async () => {
      throw new Error('database said no');
    },
    nested: (item: { id: string }, { depth }: { depth: number }) => (depth > 0 ? item : null),
    failsWith: (_: unknown, { code }: { code: string }) => {
      if (code === 'CONFLICT') throw new ConflictError('already there');
      throw new GraphQLError('made here', { extensions: { code } });
    },
    badStatus: () => 'NOT_A_STATUS',
    badDate: () => 'not a date',
  },
  Thing: { __resolveType: (t: { text?: string }) => (t.text === undefined ? 'Item' : 'Note') },
  Node: { __resolveType: (t: { text?: string }) => (t.text === undefined ? 'Item' : 'Note') },
  Query: {
    item: async (_: unknown, { id }: { id: string }) => {
      if (id === 'gone') throw new NotFoundError('Item', id);
      return byId(id);
    },
    items: (_: unknown, { filter, first }: { filter?: { names?: string[]; status: string }; first: number }) =>
      ITEMS.filter((i) => (!filter?.names || filter.names.includes(i.name)) && (!filter || i.status === filter.status))
        .slice(0, first)
        .map((i) => ({ ...i })),
    things: () => [ITEMS[0], { id: 'n1', text: 'note' }],
    nodes: () => [{ id: 'n2', text: null }, ITEMS[2]],
    count: (_: unknown, { n }: { n: number }) => n,
    echo: (_: unknown, { text, times }: { text: string; times: number }) => Array.from({ length: times }, () => text),
    slow: () => new Promise((resolve) => setTimeout(() => resolve('late'), 5)),
  },
};

const OPERATIONS: [string, string, Record<string, unknown>?][] = [
  ['scalars, enums, a custom scalar and lists', '{ item(id: "a") { id name status at tags } }'],
  [
    'aliases, fragments and __typename',
    '{ x: item(id: "a") { ...F } y: item(id: "b") { ...F __typename } } fragment F on Item { name n: name }',
  ],
  ['lists of lists with nulls', '{ item(id: "a") { grid } }'],
  ['a null in a non-null field, up to the nearest nullable parent', '{ item(id: "a") { id broken } }'],
  ['a null in a list of non-null items', '{ item(id: "a") { brokenList { id } } }'],
  ['an unexpected resolver error', '{ item(id: "a") { id maybe } }'],
  ['an AppError from a resolver', '{ item(id: "gone") { id } }'],
  [
    'coded errors, mapped and unmapped',
    '{ item(id: "a") { c: failsWith(code: "CONFLICT") f: failsWith(code: "FORBIDDEN") o: failsWith(code: "OTHER") } }',
  ],
  ['an enum value the schema does not have', '{ item(id: "a") { badStatus } }'],
  ['a scalar that cannot serialize', '{ item(id: "a") { badDate } }'],
  ['arguments with defaults and nesting', '{ item(id: "a") { nested { nested(depth: 0) { id } } } }'],
  [
    'input objects from variables, with defaults',
    'query($f: Filter) { items(filter: $f) { id } }',
    { f: { names: ['Alpha', 'Beta', 'Gamma'] } },
  ],
  [
    'input objects with a custom scalar',
    'query($f: Filter) { items(filter: $f, first: 1) { id } }',
    { f: { since: '2026-01-01T00:00:00Z', status: 'ACCEPTED' } },
  ],
  ['a bad custom scalar in variables', 'query($f: Filter) { items(filter: $f) { id } }', { f: { since: 'yesterday' } }],
  ['a variable of the wrong type', 'query($n: Int!) { count(n: $n) }', { n: 'three' }],
  ['a missing variable', 'query($n: Int!) { count(n: $n) }', {}],
  ['an Int out of range', 'query($n: Int!) { count(n: $n) }', { n: 2 ** 40 }],
  [
    'skip and include',
    'query($s: Boolean!) { a: item(id: "a") @skip(if: $s) { id } b: item(id: "b") @include(if: $s) { id name @skip(if: $s) } }',
    { s: true },
  ],
  [
    'a union and an interface',
    '{ things { __typename ... on Item { id } ... on Note { text } } nodes { id __typename ... on Note { text } } }',
  ],
  [
    'entities, found, missing and failing',
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id name } } }',
    {
      r: [
        { __typename: 'Item', id: 'a' },
        { __typename: 'Item', id: 'zzz' },
        { __typename: 'Item', id: 'gone' },
        { __typename: 'Item', id: 'c' },
      ],
    },
  ],
  [
    'an entity of a type the subgraph does not have',
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id } } }',
    { r: [{ __typename: 'Nope', id: 'a' }] },
  ],
  ['the subgraph SDL', '{ _service { sdl } }'],
  ['a list argument given one value', '{ echo(text: "hi", times: 2) }'],
  ['a promise that settles later', '{ slow count(n: 1) }'],
  ['an operation chosen by name', 'query A { count(n: 1) } query B { count(n: 2) }'],
  ['introspection', '{ __schema { queryType { name } } __type(name: "Item") { name fields { name } } }'],
];

const silent = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }) as never,
});

describe('compiled execution answers as graphql-js does', () => {
  const schema = buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });
  const execution = compiledExecution(schema);
  const compiled = createSubgraphServer<ScopedContext>(schema, { execution });
  const plain = createSubgraphServer<ScopedContext>(schema, { compiled: false });
  before(async () => {
    await compiled.start();
    await plain.start();
  });
  after(async () => {
    await compiled.stop();
    await plain.stop();
  });

  const run = async (
    server: typeof plain,
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
  ) => {
    const scope = { requestId: 'r', logger: silent };
    const response = await server.executeOperation({ query, variables, operationName }, { contextValue: { scope } });
    assert.equal(response.body.kind, 'single');
    return {
      status: response.http.status ?? 200,
      body: JSON.stringify(response.body.kind === 'single' ? response.body.singleResult : null),
      outcome: scope,
    };
  };

  for (const [name, query, variables] of OPERATIONS) {
    it(name, async () => {
      const operationName = name === 'an operation chosen by name' ? 'B' : undefined;
      // Twice: the first run compiles, the second runs what was kept.
      for (let round = 0; round < 2; round++) {
        const [viaCompiled, viaPlain] = await Promise.all([
          run(compiled, query, variables, operationName),
          run(plain, query, variables, operationName),
        ]);
        assert.equal(viaCompiled.status, viaPlain.status, 'status');
        assert.equal(viaCompiled.body, viaPlain.body);
        assert.deepEqual(viaCompiled.outcome, viaPlain.outcome, 'the scope the log line and metrics read');
      }
    });
  }

  it('gives the same answers to many concurrent requests of one document', async () => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id name status at } } }';
    const reps = Array.from({ length: 50 }, (_v, i) => ({ __typename: 'Item', id: ITEMS[i % 3]!.id }));
    const pairs = await Promise.all(
      Array.from({ length: 10 }, (_v, k) =>
        Promise.all([run(compiled, query, { r: reps.slice(k) }), run(plain, query, { r: reps.slice(k) })]),
      ),
    );
    for (const [viaCompiled, viaPlain] of pairs) assert.equal(viaCompiled.body, viaPlain.body);
  });

  it('ran the operations compiled, and on graphql-js only introspection and variables that fail', () => {
    // Each operation ran compiled twice; graphql-js ran introspection and the four whose variables fail (twice each).
    assert.equal(execution.executions.graphqlJs, 10);
    assert.ok(execution.executions.compiled >= 2 * (OPERATIONS.length - 1) + 10, JSON.stringify(execution.executions));
  });
});
