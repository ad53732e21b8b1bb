import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { distinctRepresentations, entitiesAt, requestBody } from './representations.js';
import { SubgraphFetcher, type FetchContext } from './subgraph-fetch.js';
import type { InternalTokenCache } from './internal-tokens.js';

const ENTITIES_QUERY =
  'query($representations:[_Any!]!,$first:Int){_entities(representations:$representations){...on P{n}}}';

describe('distinctRepresentations', () => {
  it('names each distinct representation once, in the order first met, and where each one asked went', () => {
    const a = { __typename: 'P', upc: '1' };
    const b = { __typename: 'P', upc: '2' };
    const { texts, places } = distinctRepresentations([a, b, { ...a }, b, a]);
    assert.deepEqual(texts, [JSON.stringify(a), JSON.stringify(b)]);
    assert.deepEqual(places, [0, 1, 0, 1, 0]);
  });

  it('keeps representations that differ in any field apart', () => {
    const { texts, places } = distinctRepresentations([
      { __typename: 'P', upc: '1', price: 1 },
      { __typename: 'P', upc: '1', price: 2 },
      { __typename: 'Q', upc: '1', price: 1 },
    ]);
    assert.equal(texts.length, 3);
    assert.deepEqual(places, [0, 1, 2]);
  });
});

describe('requestBody', () => {
  it('writes the distinct representations beside the other variables, as JSON a server parses', () => {
    const request = {
      query: ENTITIES_QUERY,
      variables: {
        first: 3,
        representations: [
          { __typename: 'P', upc: '1' },
          { __typename: 'P', upc: '1' },
        ],
      },
      operationName: 'E',
      extensions: { x: 1 },
    };
    const body = JSON.parse(requestBody(request, distinctRepresentations(request.variables.representations).texts));
    assert.deepEqual(body, {
      query: ENTITIES_QUERY,
      variables: { first: 3, representations: [{ __typename: 'P', upc: '1' }] },
      operationName: 'E',
      extensions: { x: 1 },
    });
  });

  it('writes the representations alone when they are the only variable, and a plain request as it is', () => {
    const only = requestBody({ query: 'q', variables: { representations: [{ id: '"1"' }] } }, ['{"id":"\\"1\\""}']);
    assert.deepEqual(JSON.parse(only), { query: 'q', variables: { representations: [{ id: '"1"' }] } });
    const plain = { query: '{ a }', variables: { b: 1 } };
    assert.equal(requestBody(plain), JSON.stringify(plain));
  });
});

describe('entitiesAt', () => {
  it('gives each place its entity (the same object where the same one was asked) and each error once per place', () => {
    const one = { n: 'one' };
    const answer = entitiesAt(
      {
        data: { _entities: [one, null] },
        errors: [{ message: 'gone', path: ['_entities', 1, 'n'] }, { message: 'about the whole fetch' }] as never,
      },
      [0, 1, 0, 1],
    );
    const entities = (answer.data as { _entities: unknown[] })._entities;
    assert.deepEqual(entities, [one, null, one, null]);
    assert.equal(entities[0], entities[2]);
    assert.deepEqual(
      answer.errors?.map((e) => [e.message, e.path]),
      [
        ['gone', ['_entities', 1, 'n']],
        ['gone', ['_entities', 3, 'n']],
        ['about the whole fetch', undefined],
      ],
    );
  });
});

describe('SubgraphFetcher with repeated representations', () => {
  const bodies: { variables: { representations: { upc: string }[] } }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as (typeof bodies)[number];
      bodies.push(body);
      const entities = body.variables.representations.map((r) => (r.upc === 'missing' ? null : { n: `n${r.upc}` }));
      const errors = body.variables.representations.flatMap((r, i) =>
        r.upc === 'missing' ? [{ message: 'not found', path: ['_entities', i] }] : [],
      );
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: { _entities: entities }, ...(errors.length ? { errors } : {}) }));
    });
  });
  let fetcher: SubgraphFetcher;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fetcher = new SubgraphFetcher({
      name: 'p',
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
      timeoutMs: 5_000,
      connections: 2,
      tokens: { tokenFor: async () => 'token' } as unknown as InternalTokenCache,
    });
  });
  after(async () => {
    await fetcher.close();
    server.close();
  });

  it('sends each distinct representation once and answers every one asked, in order, errors at their places', async () => {
    const upcs = ['1', '2', '1', 'missing', '1', '2', 'missing'];
    const answer = await fetcher.process({
      request: {
        query: ENTITIES_QUERY,
        variables: { representations: upcs.map((upc) => ({ __typename: 'P', upc })) },
      },
      context: {
        caller: { kind: 'anonymous' },
        scope: { requestId: 'r1', traceparent: undefined, logger: undefined },
      } as unknown as FetchContext,
    } as unknown as GraphQLDataSourceProcessOptions<FetchContext>);
    assert.deepEqual(
      bodies.at(-1)!.variables.representations.map((r) => r.upc),
      ['1', '2', 'missing'],
    );
    assert.deepEqual((answer.data as { _entities: unknown[] })._entities, [
      { n: 'n1' },
      { n: 'n2' },
      { n: 'n1' },
      null,
      { n: 'n1' },
      { n: 'n2' },
      null,
    ]);
    assert.deepEqual(
      answer.errors?.map((e) => e.path),
      [
        ['_entities', 3],
        ['_entities', 6],
      ],
    );
  });
});
