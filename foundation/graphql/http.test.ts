import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApolloServer } from '@apollo/server';
import { Writable } from 'node:stream';
import { graphqlRoute } from './http.js';
import { createLogger } from '../telemetry/logger.js';
import type { RouteHandler } from '../http/server.js';

const typeDefs = `type Query { hello(name: String!): String, fail: String, list(n: Int!): [Int!]! }`;
const resolvers = {
  Query: {
    hello: (_: unknown, { name }: { name: string }) => `hello ${name}`,
    fail: () => {
      throw new Error('resolver failed');
    },
    list: (_: unknown, { n }: { n: number }) => Array.from({ length: n }, (_v, i) => i),
  },
};

/** serve answers every request with route, as HttpService would (a scope per request). */
async function serve(route: RouteHandler): Promise<{ server: Server; url: string }> {
  const logger = createLogger({
    service: 'test',
    level: 'silent',
    destination: new Writable({ write: (_c, _e, cb) => cb() }) as never,
  });
  const server = createServer((req, res) => {
    void route(req, res, { requestId: 'r', logger });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

describe("graphqlRoute's direct path answers as Apollo Server's HTTP layer does", () => {
  const apollo = new ApolloServer({ typeDefs, resolvers, includeStacktraceInErrorResponses: false });
  let direct: { server: Server; url: string };
  let layered: { server: Server; url: string };
  before(async () => {
    await apollo.start();
    direct = await serve(graphqlRoute(apollo, async () => ({}), 1 << 20, { direct: true }));
    layered = await serve(graphqlRoute(apollo, async () => ({}), 1 << 20));
  });
  after(async () => {
    direct.server.close();
    layered.server.close();
    await apollo.stop();
  });

  const bodies: [string, string][] = [
    ['an operation', JSON.stringify({ query: '{ hello(name: "a") }' })],
    [
      'variables and an operation name',
      JSON.stringify({
        query: 'query Q($n: String!) { hello(name: $n) } query R { fail }',
        operationName: 'Q',
        variables: { n: 'b' },
      }),
    ],
    ['a resolver error beside data', JSON.stringify({ query: '{ hello(name: "c") fail }' })],
    ['a list', JSON.stringify({ query: '{ list(n: 3) }' })],
    [
      'an answer outside ASCII',
      JSON.stringify({ query: 'query($n: String!) { hello(name: $n) }', variables: { n: 'Zoë 😀 Ñandú' } }),
    ],
    ['a syntax error', JSON.stringify({ query: '{ hello(' })],
    ['a validation error', JSON.stringify({ query: '{ nope }' })],
    [
      'a variable of the wrong type',
      JSON.stringify({ query: 'query($n: String!) { hello(name: $n) }', variables: { n: 3 } }),
    ],
    ['a missing variable', JSON.stringify({ query: 'query($n: String!) { hello(name: $n) }' })],
    ['an unknown operation name', JSON.stringify({ query: 'query A { fail }', operationName: 'B' })],
    ['two operations and no name', JSON.stringify({ query: 'query A { fail } query B { fail }' })],
    ['no query', JSON.stringify({ variables: {} })],
    ['an empty object', '{}'],
    ['an empty query', JSON.stringify({ query: '' })],
    ['a query that is a number', JSON.stringify({ query: 3 })],
    ['a query that is an object', JSON.stringify({ query: { kind: 'Document' } })],
    ['variables as a string', JSON.stringify({ query: '{ fail }', variables: '{}' })],
    ['variables as a list', JSON.stringify({ query: '{ fail }', variables: [] })],
    ['variables null', JSON.stringify({ query: '{ hello(name: "d") }', variables: null })],
    ['extensions as a string', JSON.stringify({ query: '{ fail }', extensions: '{}' })],
    ['extensions as a number', JSON.stringify({ query: '{ fail }', extensions: 1 })],
    ['an operation name that is a number', JSON.stringify({ query: '{ fail }', operationName: 1 })],
    ['an operation name null', JSON.stringify({ query: '{ hello(name: "e") }', operationName: null })],
    ['a list of operations', JSON.stringify([{ query: '{ fail }' }])],
    ['null', 'null'],
    ['a string', '"{ fail }"'],
    [
      'an unknown persisted query',
      JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    ],
  ];

  for (const [name, body] of bodies) {
    it(name, async () => {
      const ask = (url: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body,
        });
      const [viaDirect, viaLayer] = await Promise.all([ask(direct.url), ask(layered.url)]);
      assert.equal(viaDirect.status, viaLayer.status, 'status');
      assert.match(viaDirect.headers.get('content-type') ?? '', /^application\/json/);
      // Content-Length counts bytes, not characters (each answer is encoded once, with its length).
      const [directBytes, layerBytes] = await Promise.all(
        [viaDirect, viaLayer].map(async (r) => Buffer.from(await r.arrayBuffer())),
      );
      assert.equal(Number(viaDirect.headers.get('content-length')), directBytes!.length);
      assert.equal(Number(viaLayer.headers.get('content-length')), layerBytes!.length);
      assert.deepEqual(JSON.parse(directBytes!.toString()), JSON.parse(layerBytes!.toString()));
    });
  }

  it('leaves GET to the HTTP layer', async () => {
    const res = await fetch(`${direct.url}?query=${encodeURIComponent('{ hello(name: "f") }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { data: { hello: 'hello f' } });
  });
});
