import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, GraphQLError, parse } from 'graphql';
import { PlanExecutor, valuesAt } from './execution.js';
import type { InternalTokenCache } from './internal-tokens.js';
import { SubgraphFetcher } from './subgraph-fetch.js';

// Four subgraphs with what @apollo/gateway's executor must get right: entities across subgraphs, @requires, an
// interface and a union, an enum, non-null fields, errors inside entity fetches; and a subgraph that answers what the
// supergraph does not allow (its JSON is altered on the way out), for the post-processing errors.
const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires"])';
const USERS = [
  { id: 'u1', name: 'Ada', role: 'ADMIN' },
  { id: 'u2', name: 'Bo', role: 'ADMIN' },
  { id: 'u3', name: 'TAMPER_NULL', role: 'MEMBER' },
  { id: 'u4', name: 'Cy', role: 'ADMIN' },
  { id: 'bad', name: 'Dee', role: 'ADMIN' },
];
const PRODUCTS = [
  { upc: 'p1', name: 'Drill', price: 100, weight: 10 },
  { upc: 'p2', name: 'Saw', price: 2000, weight: 4 },
];
const REVIEWS = [
  { id: 'r1', body: 'good', authorId: 'u1', upc: 'p1' },
  { id: 'r2', body: 'fine', authorId: 'u2', upc: 'p1' },
  { id: 'r3', body: 'bad', authorId: 'u1', upc: 'p2' },
  { id: 'r4', body: 'meh', authorId: 'u3', upc: 'p2' },
  { id: 'r5', body: 'odd', authorId: 'bad', upc: 'p1' },
];

/**
 * last is the mutation that last ended (in either subgraph); mark ends one after waitMs, answering the one before it:
 * mutations run in parallel would answer otherwise. A row ends with a tick, so each starts from one.
 */
let last = 'tick';
async function mark(name: string, waitMs: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const before = last;
  last = name;
  return before;
}

const SUBGRAPHS = {
  accounts: {
    typeDefs: `${LINK}
      type Query { users: [User!]!  suspects: [User]  user(id: ID!): User  search(term: String!): [Result!]!  node(id: ID!): Node
        echoAll(texts: [String!]!): [String!]! }
      type Mutation { echo(text: String!): String!  tick: String }
      interface Node { id: ID! }
      type Admin implements Node { id: ID!  level: Int }
      union Result = User | Admin
      enum Role { ADMIN MEMBER }
      type User implements Node @key(fields: "id") { id: ID!  name: String!  role: Role  tags: [[String!]]  manager: User }`,
    resolvers: {
      Query: {
        users: () => USERS.filter((u) => ['u1', 'u2', 'bad'].includes(u.id)),
        suspects: () => USERS.filter((u) => ['u1', 'u3', 'u4'].includes(u.id)),
        user: (_: unknown, { id }: { id: string }) => USERS.find((u) => u.id === id) ?? null,
        search: () => [
          { ...USERS[0], kind: 'User' },
          { id: 'a1', level: 3, kind: 'Admin' },
        ],
        node: (_: unknown, { id }: { id: string }) =>
          id === 'a1' ? { id, level: 3, kind: 'Admin' } : { ...USERS.find((u) => u.id === id), kind: 'User' },
        echoAll: (_: unknown, { texts }: { texts: string[] }) => texts,
      },
      Mutation: { echo: (_: unknown, { text }: { text: string }) => text, tick: () => mark('tick', 20) },
      Node: { __resolveType: (o: { kind: string }) => o.kind },
      Result: { __resolveType: (o: { kind: string }) => o.kind },
      User: {
        __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id),
        tags: (u: { id: string }) => [[u.id, 'x'], null, []],
        manager: (u: { id: string }) => ({ id: { u1: 'u2', u2: 'u1', bad: 'u1', u3: 'u2' }[u.id] ?? 'u4' }),
      },
    },
  },
  products: {
    typeDefs: `${LINK}
      type Query { topProducts(first: Int = 5): [Product] }
      type Mutation { tock: String }
      type Product @key(fields: "upc") { upc: String!  name: String  price: Int  weight: Int  stock: Int }`,
    resolvers: {
      Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
      Mutation: { tock: () => mark('tock', 0) },
      Product: {
        __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc),
        stock: (p: { upc: string }) => {
          if (p.upc === 'p1') throw new GraphQLError('stock of p1 is unknown', { extensions: { code: 'UNKNOWN' } });
          return 7;
        },
      },
    },
  },
  inventory: {
    typeDefs: `${LINK}
      type Product @key(fields: "upc") { upc: String!  weight: Int @external  price: Int @external  shippingEstimate: Int @requires(fields: "price weight") }`,
    resolvers: {
      Product: {
        __resolveReference: (ref: object) => ref,
        shippingEstimate: (p: { price: number; weight: number }) => (p.price > 1000 ? 0 : p.weight / 2),
      },
    },
  },
  reviews: {
    typeDefs: `${LINK}
      type Review { id: ID!  body: String  author: User  product: Product }
      type User @key(fields: "id") { id: ID!  reviews(body: String): [Review!] }
      type Product @key(fields: "upc") { upc: String!  reviews: [Review] }`,
    resolvers: {
      Review: {
        author: (r: { authorId: string }) => ({ id: r.authorId }),
        product: (r: { upc: string }) => ({ upc: r.upc }),
      },
      User: {
        __resolveReference: (ref: { id: string }) => ref,
        reviews: (u: { id: string }, { body }: { body?: string }) => {
          if (u.id === 'bad')
            throw new GraphQLError('reviews of bad are sealed', { extensions: { code: 'FORBIDDEN' } });
          return REVIEWS.filter((r) => r.authorId === u.id && (body === undefined || r.body === body));
        },
      },
      Product: {
        __resolveReference: (ref: { upc: string }) => ref,
        reviews: (p: { upc: string }) => REVIEWS.filter((r) => r.upc === p.upc),
      },
    },
  },
};

/**
 * TAMPER is what the accounts subgraph's answers are altered by: u3's name becomes null (non-null in the schema), its
 * role an enum value the schema does not have, and u4's type name one it does not know.
 */
function tamper(text: string): string {
  return text
    .replaceAll('"TAMPER_NULL"', 'null')
    .replaceAll('"MEMBER"', '"OWNER"')
    .replaceAll('"__typename":"User","id":"u4"', '"__typename":"Ghost","id":"u4"');
}

/** SubgraphAnswer is a subgraph's JSON answer, as a row's `alter` sees it. */
interface SubgraphAnswer {
  data?: Record<string, unknown> | null;
  errors?: unknown;
}

/** SubgraphRequest is what a subgraph was asked. */
interface SubgraphRequest {
  query: string;
  variables?: Record<string, unknown>;
}

/** Alter changes a subgraph's answer before it leaves (for both gateways): what a misbehaving subgraph would send. */
type Alter = (subgraph: string, request: SubgraphRequest, answer: SubgraphAnswer) => void;

/** asked says whether a request is an `_entities` fetch of the given type. */
function asked(request: SubgraphRequest, typename: string): boolean {
  const representations = request.variables?.representations as { __typename?: string }[] | undefined;
  return Array.isArray(representations) && representations[0]?.__typename === typename;
}

/** entitiesOf is the `_entities` list of an answer. */
function entitiesOf(answer: SubgraphAnswer): Record<string, unknown>[] {
  return (answer.data as { _entities: Record<string, unknown>[] })._entities;
}

/**
 * OPERATIONS are compared one by one; `plannedWith` are variables the operation is first planned with, when its own
 * do not fit; `alter` changes the subgraphs' answers while the row runs.
 */
const OPERATIONS: {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  plannedWith?: Record<string, unknown>;
  operationName?: string;
  alter?: Alter;
}[] = [
  {
    name: 'entities across every subgraph, with @requires',
    query: `{ users { id name reviews { body product { upc name shippingEstimate reviews { author { id name } } } } } }`,
  },
  {
    name: 'the same entities along many paths',
    query: `{ topProducts { upc reviews { author { reviews { product { name price shippingEstimate } } } } } }`,
  },
  {
    name: 'aliases, a name Object.prototype knows, repeated fields and fragments',
    query: `query A { users { a: id id constructor: name toString: id ...F ... on User { name n2: name } } }
      fragment F on User { id name reviews { b: body } }`,
  },
  {
    name: 'an interface, a union and __typename everywhere',
    query: `{ __typename search(term: "x") { __typename ... on User { name } ... on Admin { level } }
      a: node(id: "a1") { id __typename ... on Admin { level } }
      u: node(id: "u1") { id ... on User { name reviews { __typename body } } } }`,
  },
  {
    name: '@skip and @include, by variable and literal, on fields, fragments and fetches',
    query: `query S($yes: Boolean!, $no: Boolean = false) {
      users { id name @include(if: $yes) role @skip(if: $yes) reviews @include(if: $no) { body }
        ... on User @skip(if: $no) { tags } x: name @include(if: false) } }`,
    variables: { yes: true },
  },
  {
    name: 'a skipped fetch (a condition in the plan)',
    query: `query C($r: Boolean!) { users { id reviews @include(if: $r) { body } } }`,
    variables: { r: false },
  },
  {
    name: 'the same, included',
    query: `query C($r: Boolean!) { users { id reviews @include(if: $r) { body } } }`,
    variables: { r: true },
  },
  {
    name: 'variables with defaults and lists of lists',
    query: `query V($first: Int = 1) { topProducts(first: $first) { name shippingEstimate } users { tags } }`,
  },
  {
    name: 'an error inside an entity fetch, placed at every path of that entity',
    query: `{ users { id reviews { body } } topProducts { reviews { author { id reviews { body } } } } }`,
  },
  {
    name: 'null in a non-null field, an unknown enum value and an unknown type name from a subgraph',
    query: `{ suspects { __typename id role name } topProducts { reviews { author { name } } } }`,
  },
  {
    name: 'a missing root entity',
    query: `{ user(id: "none") { name reviews { body } } }`,
  },
  {
    name: 'variables that do not fit their types',
    query: `query W($first: Int) { topProducts(first: $first) { name } }`,
    variables: { first: 'many' },
    plannedWith: { first: 1 },
  },
  { name: 'a mutation', query: `mutation M { echo(text: "hi") }` },
  {
    name: 'mutations across subgraphs, one after another',
    query: `mutation T { a: tick b: tock c: tick d: echo(text: "x") }`,
  },
  {
    name: 'names Object.prototype knows along the paths of entity fetches',
    query: `{ constructor: topProducts { hasOwnProperty: reviews { valueOf: author { toString: name } } }
      toString: users { __defineGetter__: reviews { isPrototypeOf: product { name } } } }`,
  },
  {
    name: 'a client variable named representations, in an _entities fetch',
    query: `query R($representations: String) { users { id reviews(body: $representations) { body } } }`,
    variables: { representations: 'good' },
  },
  {
    name: 'a null element in a non-null list, a wrong leaf in a list of lists',
    query: `{ suspects { id tags } users { id tags } }`,
    alter: (subgraph, _, answer) => {
      const users = answer.data?.users as Record<string, unknown>[] | undefined;
      if (subgraph === 'accounts' && users) users[1] = null as never;
      const suspects = answer.data?.suspects as { tags: unknown[][] }[] | undefined;
      if (subgraph === 'accounts' && suspects) suspects[0]!.tags[0]![1] = 3;
    },
  },
  {
    name: 'named fragments spread under @skip and @include, one of them a fetch',
    query: `query G($no: Boolean = false, $yes: Boolean = true) {
      users { ...Names @skip(if: $no) ...Reviews @include(if: $yes) ...Reviews @skip(if: $yes) }
      search(term: "x") { ...Names @include(if: $no) ... on Admin { ...Level } } }
      fragment Names on User { id n: name }
      fragment Reviews on User { reviews { body product { name } } }
      fragment Level on Admin { level id }`,
  },
  {
    name: 'the second operation of a document, by name',
    query: `query A { users { id } } query B { topProducts { name reviews { body } } }`,
    operationName: 'B',
  },
  {
    name: 'nothing but __typename, aliased too',
    query: `query Q { __typename t: __typename }`,
  },
  {
    name: 'a subgraph answering a made-up __typename at the root, after a fragment on the root type was shaped here',
    query: `query F($id: ID!) { ... on Query { user(id: $id) { id t: __typename } } }`,
    plannedWith: { id: 'u1' },
    variables: { id: 'u2' },
    alter: (subgraph, request, answer) => {
      if (subgraph === 'accounts' && request.variables?.id === 'u2') answer.data!.__typename = '\0Query';
    },
  },
  {
    name: 'a subgraph answering __typename null',
    query: `{ users { id reviews { body } } }`,
    alter: (subgraph, _, answer) => {
      if (subgraph === 'accounts') (answer.data!.users as Record<string, unknown>[])[0]!.__typename = null;
    },
  },
  {
    name: 'a subgraph answering a __typename that is not a string',
    query: `{ users { id reviews { body } } }`,
    alter: (subgraph, _, answer) => {
      if (subgraph === 'accounts') (answer.data!.users as Record<string, unknown>[])[0]!.__typename = 5;
    },
  },
  {
    name: 'a subgraph answering a list for an object, read under a name Array.prototype knows',
    query: `{ user(id: "u1") { at: role values: role } }`,
    alter: (subgraph, _, answer) => {
      if (subgraph === 'accounts') answer.data!.user = [];
    },
  },
  {
    name: 'a @skip variable given null, on a field no subgraph is asked',
    query: `query N($s: Boolean = false) { __typename @skip(if: $s) users { id } }`,
    variables: { s: null },
  },
  {
    name: 'a client variable named representations, in a fetch that is not an _entities fetch',
    query: `query E($representations: [String!]!) { echoAll(texts: $representations) }`,
    variables: { representations: ['a', 'a', 'b'] },
  },
  {
    name: 'a subgraph answering an object for a list a later fetch goes through',
    query: `{ topProducts(first: 1) { upc reviews { body } } }`,
    alter: (subgraph, _, answer) => {
      if (subgraph === 'products' && Array.isArray(answer.data?.topProducts))
        answer.data.topProducts = (answer.data.topProducts as unknown[])[0];
    },
  },
  {
    name: 'a subgraph answering errors that are not a list',
    query: `{ users { id } }`,
    alter: (subgraph, _, answer) => {
      if (subgraph === 'accounts') answer.errors = 'ab';
    },
  },
  {
    name: 'a subgraph answering fewer entities than it was asked for (some asked twice)',
    query: `{ topProducts { reviews { author { name } } } }`,
    alter: (subgraph, request, answer) => {
      if (subgraph === 'accounts' && asked(request, 'User')) entitiesOf(answer).pop();
    },
  },
  {
    name: 'a subgraph answering an error about an entity it was not asked for (some asked twice)',
    query: `{ topProducts { reviews { author { name } } } }`,
    alter: (subgraph, request, answer) => {
      if (subgraph === 'accounts' && asked(request, 'User'))
        answer.errors = [{ message: 'lost', path: ['_entities', 99, 'name'] }];
    },
  },
  {
    name: 'errors about an entity whose objects are shared, in the order of their places',
    query: `{ topProducts { reviews { author { manager { reviews { product { upc stock } } } } } } }`,
  },
  {
    name: 'introspection (left to the stock executor)',
    query: `{ __schema { queryType { name } } users { id } }`,
  },
];

/** CONTEXT is what Fixup's fetcher reads of a request's context: the caller (for its token) and the request's scope. */
const CONTEXT = {
  caller: { kind: 'anonymous' },
  scope: { requestId: 'differential', traceparent: undefined, logger: { warn: () => {} } },
};

/** alter is the change the running row makes to the subgraphs' answers. */
let alter: Alter | undefined;

describe('PlanExecutor', () => {
  const servers: Server[] = [];
  const fetchers: SubgraphFetcher[] = [];
  let stock: ApolloServer;
  let fixup: ApolloServer;
  let ran = 0;

  before(async () => {
    const urls: Record<string, string> = {};
    for (const [name, { typeDefs, resolvers }] of Object.entries(SUBGRAPHS)) {
      const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as never });
      const server = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', async () => {
          const body = JSON.parse(text) as SubgraphRequest;
          const result = await execute({ schema, document: parse(body.query), variableValues: body.variables });
          const altered = JSON.parse(JSON.stringify(result)) as SubgraphAnswer;
          alter?.(name, body, altered);
          const answer = JSON.stringify(altered);
          res.writeHead(200, { 'content-type': 'application/json' }).end(name === 'accounts' ? tamper(answer) : answer);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    }
    const composed = composeServices(
      Object.entries(SUBGRAPHS).map(([name, s]) => ({ name, url: urls[name]!, typeDefs: parse(s.typeDefs) })),
    );
    if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('; '));
    const supergraphSdl = composed.supergraphSdl;
    stock = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl,
        buildService: ({ url }) => new RemoteGraphQLDataSource({ url }),
      }),
      includeStacktraceInErrorResponses: false,
    });
    const services: Record<string, GraphQLDataSource> = Object.fromEntries(
      // Fixup's own fetcher, as in production: each distinct representation sent once, the answer expanded back.
      Object.entries(urls).map(([name, url]) => {
        const fetcher = new SubgraphFetcher({
          name,
          url,
          timeoutMs: 10_000,
          connections: 4,
          tokens: { tokenFor: async () => 'token' } as unknown as InternalTokenCache,
        });
        fetchers.push(fetcher);
        return [name, fetcher as unknown as GraphQLDataSource];
      }),
    );
    const gateway = new ApolloGateway({ supergraphSdl, buildService: ({ name }) => services[name]! });
    const executor = new PlanExecutor(gateway, services, { planned: () => void ran++, planCacheHit: () => {} });
    fixup = new ApolloServer({ gateway: executor.wrap(), includeStacktraceInErrorResponses: false });
    await Promise.all([stock.start(), fixup.start()]);
  });

  after(async () => {
    await Promise.all([stock.stop(), fixup.stop(), ...fetchers.map((f) => f.close())]);
    for (const server of servers) server.close();
  });

  /**
   * answerOf is what a client reads of an answer: its HTTP status, data, errors (message, path, extensions) and
   * extensions, keys in order.
   */
  async function answerOf(
    server: ApolloServer,
    op: Pick<(typeof OPERATIONS)[number], 'query' | 'variables' | 'operationName'>,
  ): Promise<string> {
    const { query, variables, operationName } = op;
    const response = await server.executeOperation(
      { query, variables, operationName },
      { contextValue: CONTEXT as never },
    );
    assert.equal(response.body.kind, 'single');
    const { data, errors, extensions } = (response.body as unknown as { singleResult: unknown }).singleResult as {
      data?: unknown;
      errors?: unknown[];
      extensions?: unknown;
    };
    return JSON.stringify({ status: response.http.status, data, errors, extensions });
  }

  for (const op of OPERATIONS) {
    it(`answers as @apollo/gateway does: ${op.name}`, async (t) => {
      alter = op.alter;
      t.after(() => void (alter = undefined));
      const expected = await answerOf(stock, op);
      if (op.plannedWith) {
        // Variables that do not fit are refused before planning: the operation is planned, then run here with them.
        await answerOf(fixup, { ...op, variables: op.plannedWith });
        const before = ran;
        await answerOf(fixup, { ...op, variables: op.plannedWith });
        assert.equal(ran - before, 1, 'the operation runs here');
        assert.equal(await answerOf(fixup, op), expected);
        return;
      }
      // The first request plans the operation (by the stock executor); the second runs here.
      const first = await answerOf(fixup, op);
      const before = ran;
      const second = await answerOf(fixup, op);
      assert.equal(first, expected);
      assert.equal(second, expected);
      const runsHere = !op.name.startsWith('introspection');
      assert.equal(
        ran - before,
        runsHere ? 1 : 0,
        runsHere ? 'the second request ran here' : 'left to the stock executor',
      );
    });
  }

  it('has answers worth comparing: data, entity errors, post-processing errors', async () => {
    const byName = (name: string) =>
      answerOf(
        fixup,
        OPERATIONS.find((o) => o.name.startsWith(name))!,
      );
    assert.match(await byName('entities across'), /"shippingEstimate":5/);
    const errors = JSON.parse(await byName('an error inside')) as {
      errors: { path: unknown[]; extensions: { code: string } }[];
    };
    assert.ok(
      errors.errors.filter((e) => e.extensions.code === 'FORBIDDEN').length >= 2,
      'one error per place of the entity',
    );
    const completion = await byName('null in a non-null');
    assert.match(completion, /valueCompletion/);
    assert.match(completion, /Cannot return null for non-nullable field User.name/);
    assert.match(completion, /Invalid value found for field User.role/);
    assert.match(completion, /Invalid __typename found/);
  });
});

describe('valuesAt', () => {
  it('reads a plan path as @apollo/gateway does, through lists and nulls', () => {
    const data = { a: [{ b: { c: 1 } }, null, { b: null }, { b: { c: 2 } }], d: { e: [[{ f: 1 }], [{ f: 2 }]] } };
    assert.deepEqual(valuesAt(data, ['a', '@', 'b']), [{ c: 1 }, null, null, { c: 2 }]);
    assert.deepEqual(valuesAt(data, ['a', '@', 'b', 'c']), [1, null, null, 2]);
    assert.deepEqual(valuesAt(data, ['d', 'e', '@', '@']), [{ f: 1 }, { f: 2 }]);
    assert.equal(valuesAt(data, ['x', 'y']), undefined);
    assert.equal(valuesAt(data, []), data);
    assert.throws(() => valuesAt(data, ['a', 'b']), /Unexpected array/);
  });
});
