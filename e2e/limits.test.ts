// Bounded requests, tried as a hostile client would: documents over each limit over HTTP and the
// socket, registered operations, rate limits, socket caps, CORS, and refusals that close the connection.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestStack, type TestStack } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}schema/persisted-query-manifest.json`, 'utf8')) as {
  operations: { id: string; name: string; body: string }[];
};
const op = (name: string) => manifest.operations.find((o) => o.name === name)!;

/** subgraphRequests sums the GraphQL requests every subgraph has answered, from their metrics. */
async function subgraphRequests(t: TestStack): Promise<number> {
  let total = 0;
  for (const service of t.stack.services.filter((s) => s.name !== 'gateway')) {
    const text = await (await fetch(new URL('/metrics', service.admin))).text();
    for (const match of text.matchAll(
      /^fixup_http_request_duration_seconds_count\{[^}]*route="POST \/graphql"[^}]*\} (\d+)/gm,
    ))
      total += Number(match[1]);
  }
  return total;
}

/** post sends a raw body to the gateway and reads the answer as text. */
async function post(
  t: TestStack,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(t.stack.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': `192.0.2.${Math.floor(Math.random() * 250) + 1}`,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** socket opens a graphql-ws client to the gateway as the given user. */
function socket(t: TestStack, token: string, onClose?: (code: number) => void): Client {
  return createClient({
    url: t.stack.endpoint.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
    on: { closed: (event) => onClose?.((event as { code: number }).code) },
    // The close is recorded above; graphql-ws would also print it (its default onNonLazyError is console.error).
    onNonLazyError: () => {},
  });
}

/** subscribeOnce sends one subscribe message and gives the errors it was answered with. */
function refusedOnSocket(
  client: Client,
  payload: Record<string, unknown>,
): Promise<{ message: string; extensions?: Record<string, unknown> }[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(payload as never, {
      next: () => reject(new Error('expected a refusal, got data')),
      error: (err) => resolve(Array.isArray(err) ? err : [err as never]),
      complete: () => reject(new Error('expected a refusal, got complete')),
    });
  });
}

const MESSAGE_ADDED = 'subscription($c: ID!) { messageAdded(conversationId: $c) { id body sender { id } } }';

/**
 * nested is a selection exactly `levels` deep below an order, through single objects only (so its cost stays small).
 */
function nested(levels: number): string {
  let inner = 'id';
  let depth = 1;
  if ((levels - depth) % 2 === 1) {
    inner = 'customer { id }';
    depth = 2;
  }
  while (depth + 2 <= levels) {
    inner = `acceptedOffer { order { ${inner} } }`;
    depth += 2;
  }
  return inner;
}

/** deepQuery and deepSubscription are operations exactly `levels` deep. */
const deepQuery = (levels: number) => `{ order(id: "00000000-0000-0000-0000-000000000000") { ${nested(levels - 1)} } }`;
const deepSubscription = (levels: number) =>
  `subscription($c: ID!) { messageAdded(conversationId: $c) { conversation { order { ${nested(levels - 3)} } } } }`;

/** HOSTILE are documents just over each limit with the default settings, and one just under. */
const HOSTILE: { limit: string; under: string; over: string }[] = [
  {
    limit: 'aliases',
    under: `{ categories { ${Array.from({ length: 20 }, (_, i) => `a${i}: name`).join(' ')} } }`,
    over: `{ categories { ${Array.from({ length: 21 }, (_, i) => `a${i}: name`).join(' ')} } }`,
  },
  {
    limit: 'directives',
    under: `{ categories { name ${'@include(if: true) '.repeat(20)} } }`,
    over: `{ categories { name ${'@include(if: true) '.repeat(21)} } }`,
  },
  {
    limit: 'rootFields',
    under: `{ categories { name } ${Array.from({ length: 19 }, (_, i) => `c${i}: categories { name }`).join(' ')} }`,
    over: `{ categories { name } ${Array.from({ length: 20 }, (_, i) => `c${i}: categories { name }`).join(' ')} }`,
  },
  {
    limit: 'tokens',
    under: `{ categories { ${'name '.repeat(995)}} }`,
    over: `{ categories { ${'name '.repeat(996)}} }`,
  },
  {
    limit: 'depth',
    under: deepQuery(12),
    over: deepQuery(13),
  },
  {
    limit: 'cost',
    under: `{ services { providers(first: 5) { skills { name } } } }`,
    over: `{ services { providers(first: 100) { skills { providers(first: 100) { id } } } } }`,
  },
];

describe('bounded requests through the gateway', () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({ GATEWAY_RATE_CREDENTIALS_PER_MINUTE: '1', GATEWAY_RATE_CREDENTIALS_BURST: '3' });
  });
  after(async () => {
    await t?.stop();
  });

  it('over HTTP: each hostile document just over its limit is one short OPERATION_TOO_COMPLEX, and no subgraph is asked', async () => {
    for (const row of HOSTILE) {
      const under = await post(t, { query: row.under });
      assert.ok(
        !(under.json.errors ?? []).some((e: any) => e.extensions?.code === 'OPERATION_TOO_COMPLEX'),
        `${row.limit} under: ${under.text.slice(0, 300)}`,
      );
      const before = await subgraphRequests(t);
      const over = await post(t, { query: row.over });
      assert.equal(over.status, 400, row.limit);
      assert.equal(over.json.errors.length, 1, row.limit);
      const [error] = over.json.errors;
      assert.equal(error.extensions.code, 'OPERATION_TOO_COMPLEX', row.limit);
      assert.equal(error.extensions.limit, row.limit);
      assert.equal(typeof error.extensions.max, 'number');
      assert.match(error.message, new RegExp(`${row.limit} limit of ${error.extensions.max}`));
      assert.deepEqual(Object.keys(error.extensions).sort(), ['code', 'limit', 'max']);
      assert.ok(over.text.length < 1024, `${row.limit}: ${over.text.length} bytes`);
      assert.equal(await subgraphRequests(t), before, `${row.limit}: a subgraph was asked`);
    }
  });

  it('the documents of the issue: 5,000 aliases, 3,000 directives, a 1 MB document', async () => {
    const aliases = await post(t, {
      query: `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: categories { name }`).join(' ')} }`,
    });
    assert.equal(aliases.json.errors.length, 1);
    assert.equal(aliases.json.errors[0].extensions.code, 'OPERATION_TOO_COMPLEX');
    assert.ok(aliases.text.length < 1024);
    const directives = await post(t, { query: `{ categories { name ${'@nope '.repeat(3000)} } }` });
    assert.equal(directives.json.errors.length, 1);
    assert.ok(directives.text.length < 1024);
    const huge = await post(t, { query: `{ categories { name } } # ${'x'.repeat(1024 * 1024)}` });
    assert.equal(huge.status, 413);
    assert.equal(huge.headers.get('connection'), 'close');
  });

  it('an address past its credentials bucket is refused at the gateway (429, no subgraph asked); its other operations and other addresses go on', async () => {
    const address = { 'x-forwarded-for': '203.0.113.50' };
    const login = (n: number, headers = address) =>
      post(
        t,
        {
          query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
          variables: { e: `nobody-${n}@example.com`, p: 'a wrong password' },
        },
        headers,
      );
    for (let n = 0; n < 4; n++) {
      const answer = await login(n);
      assert.equal(answer.status, 200, answer.text.slice(0, 300));
      assert.equal(answer.json.errors[0].extensions.code, 'UNAUTHENTICATED');
    }
    const before = await subgraphRequests(t);
    const started = performance.now();
    const refused = await login(4);
    assert.equal(refused.status, 429);
    // The refusal waited GATEWAY_RATE_CREDENTIALS_REFUSAL_DELAY_MS (default 1000), so that a looping client slows down.
    assert.ok(performance.now() - started >= 900, `answered after ${performance.now() - started} ms`);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(refused.json.errors[0].extensions.code, 'RATE_LIMITED');
    assert.ok(refused.json.errors[0].extensions.retryAfterSeconds >= 1);
    // Every credential mutation shares the bucket.
    const reset = await post(t, { query: 'mutation { requestPasswordReset(email: "nobody@example.com") }' }, address);
    assert.equal(reset.status, 429);
    assert.equal(await subgraphRequests(t), before, 'no subgraph was asked');
    const categories = await post(t, { query: '{ categories { id } }' }, address);
    assert.equal(categories.status, 200);
    const elsewhere = await login(5, { 'x-forwarded-for': '203.0.113.51' });
    assert.equal(elsewhere.json.errors[0].extensions.code, 'UNAUTHENTICATED');
  });

  it('invalid documents get a capped list of GRAPHQL_VALIDATION_FAILED errors', async () => {
    const res = await post(t, {
      query: `{ categories { ${Array.from({ length: 200 }, (_, i) => `nope${i}`).join(' ')} } }`,
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.errors.length, 10);
    for (const e of res.json.errors) assert.equal(e.extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    const suggested = await post(t, { query: '{ categorie { name } }' });
    assert.match(suggested.json.errors[0].message, /Did you mean/, 'development keeps suggestions');
  });

  it('registered operations run by id in both forms, and automatic persisted queries work in any mode', async () => {
    const categories = op('Categories');
    const byHash = await post(t, { extensions: { persistedQuery: { version: 1, sha256Hash: categories.id } } });
    assert.ok(Array.isArray(byHash.json.data?.categories), byHash.text.slice(0, 300));
    const byDocumentId = await post(t, { documentId: `sha256:${categories.id}` });
    assert.deepEqual(byDocumentId.json.data, byHash.json.data);
    const unknown = await post(t, { documentId: `sha256:${'0'.repeat(64)}` });
    assert.equal(unknown.json.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
    const adHoc = await post(t, { query: '{ categories { id } }' });
    assert.ok(adHoc.json.data?.categories);
  });

  it('on the socket: the same limits and codes, and a refused subscription leaves the socket open', async () => {
    const customer = await t.register('CUSTOMER');
    let closed: number | undefined;
    const client = socket(t, customer.accessToken, (code) => (closed = code));
    try {
      const tooDeep = await refusedOnSocket(client, {
        query: deepSubscription(13),
        variables: { c: '00000000-0000-0000-0000-000000000000' },
      });
      assert.equal(tooDeep.length, 1);
      assert.equal(tooDeep[0]!.extensions?.code, 'OPERATION_TOO_COMPLEX');
      assert.equal(tooDeep[0]!.extensions?.limit, 'depth');
      const tokens = await refusedOnSocket(client, {
        query: `subscription { messageAdded(conversationId: "x") { ${'id '.repeat(2000)}} }`,
      });
      assert.equal(tokens[0]!.extensions?.code, 'OPERATION_TOO_COMPLEX');
      const invalid = await refusedOnSocket(client, {
        query: 'subscription { messageAdded(conversationId: "x") { nope } }',
      });
      assert.equal(invalid[0]!.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      const aliases = await refusedOnSocket(client, {
        query: `subscription($c: ID!) { messageAdded(conversationId: $c) { ${Array.from({ length: 21 }, (_, i) => `a${i}: id`).join(' ')} } }`,
        variables: { c: 'x' },
      });
      assert.equal(aliases[0]!.extensions?.limit, 'aliases');
      // Still open: a valid subscription is planned and reaches chat, which answers that the conversation is unknown.
      const notFound = await new Promise<{ extensions?: Record<string, unknown> }[]>((resolve) => {
        client.subscribe({ query: MESSAGE_ADDED, variables: { c: '00000000-0000-0000-0000-000000000000' } } as never, {
          next: (value) => resolve([...((value as { errors?: never[] }).errors ?? [])]),
          error: (err) => resolve(Array.isArray(err) ? err : [err as never]),
          complete: () => resolve([]),
        });
      });
      assert.ok(notFound.length >= 1);
      assert.ok(
        !['OPERATION_TOO_COMPLEX', 'GRAPHQL_VALIDATION_FAILED'].includes(String(notFound[0]!.extensions?.code)),
      );
      assert.equal(closed, undefined);
    } finally {
      await client.dispose();
    }
  });

  it('keeps an idle keep-alive connection longer than the proxies and clients in front of it do (65 s)', async () => {
    const res = await t.gql('{ __typename }');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('keep-alive'), 'timeout=65', "Node names the server's keep-alive timeout to clients");
  });

  it('CORS: an allowed origin gets a real preflight answer; another origin gets no Access-Control-Allow-Origin', async () => {
    const allowed = await fetch(t.stack.endpoint, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowedHeaders = allowed.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['authorization', 'content-type', 'apollo-require-preflight'])
      assert.match(allowedHeaders, new RegExp(h));
    assert.ok(Number(allowed.headers.get('access-control-max-age')) > 0);
    const other = await fetch(t.stack.endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const actual = await post(t, { query: '{ categories { id } }' }, { origin: 'http://localhost:3000' });
    assert.equal(actual.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    const foreign = await post(t, { query: '{ categories { id } }' }, { origin: 'https://evil.example' });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('early refusals (413, 415, bad JSON) close the connection, and the next request works', async () => {
    const tooBig = await post(t, 'x'.repeat(2 * 1024 * 1024));
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.headers.get('connection'), 'close');
    const wrongType = await post(t, '{ categories { id } }', { 'content-type': 'text/plain' });
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.headers.get('connection'), 'close');
    const badJson = await post(t, '{"query": ');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.headers.get('connection'), 'close');
    const next = await post(t, { query: '{ categories { id } }' });
    assert.ok(next.json.data?.categories);
  });
});

describe('registered mode, rate limits and socket caps', () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({
      GATEWAY_OPERATIONS: 'registered',
      GATEWAY_INTROSPECTION: 'false',
      GATEWAY_SUGGESTIONS: 'false',
      GATEWAY_RATE_ADDRESS_PER_SECOND: '1',
      GATEWAY_RATE_ADDRESS_BURST: '3',
      GATEWAY_RATE_USER_PER_SECOND: '1',
      GATEWAY_RATE_USER_BURST: '3',
      GATEWAY_WS_SOCKETS_PER_USER: '2',
      GATEWAY_RATE_REFUSALS_PER_MINUTE: '1',
      GATEWAY_RATE_REFUSALS_BURST: '2',
      GATEWAY_RATE_REFUSALS_DELAY_MS: '500',
    });
  });
  after(async () => {
    await t?.stop();
  });

  const register = async () => {
    const res = await post(t, {
      documentId: `sha256:${op('Register').id}`,
      variables: {
        input: {
          email: `rl-${Date.now()}-${Math.random()}@example.com`,
          password: 'a long enough password',
          displayName: 'Rate',
          role: 'CUSTOMER',
        },
      },
    });
    assert.ok(res.json.data?.register, res.text.slice(0, 300));
    return res.json.data.register.accessToken as string;
  };

  it('runs only registered operations: by id, by full text; anything else is refused', async () => {
    const categories = op('Categories');
    const byId = await post(t, { extensions: { persistedQuery: { version: 1, sha256Hash: categories.id } } });
    assert.ok(byId.json.data?.categories, byId.text.slice(0, 300));
    const byText = await post(t, { query: categories.body });
    assert.ok(byText.json.data?.categories);
    const other = await post(t, { query: '{ categories { id } }' });
    assert.equal(other.json.errors[0].extensions.code, 'OPERATION_NOT_REGISTERED');
    const text = '{ categories { name } }';
    const { createHash } = await import('node:crypto');
    const id = createHash('sha256').update(text).digest('hex');
    const apq = await post(t, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
    assert.equal(apq.json.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
    const afterApq = await post(t, { extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
    assert.equal(afterApq.json.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND', 'nothing was registered');
  });

  it('rate limits per address: 429 with Retry-After and RATE_LIMITED with retryAfterSeconds', async () => {
    const address = { 'x-forwarded-for': '203.0.113.77' };
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await post(t, { documentId: `sha256:${op('Categories').id}` }, address));
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited, 'some request was limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.json.errors[0].extensions.code, 'RATE_LIMITED');
    assert.ok(limited.json.errors[0].extensions.retryAfterSeconds >= 1);
    // Another address, even in the same IPv4 /24, has a budget of its own.
    const other = await post(t, { documentId: `sha256:${op('Categories').id}` }, { 'x-forwarded-for': '203.0.113.78' });
    assert.equal(other.status, 200);
  });

  it('rate limits per user, whatever the address', async () => {
    const token = await register();
    const answers = [];
    for (let i = 0; i < 10; i++)
      answers.push(await post(t, { documentId: `sha256:${op('Me').id}` }, { authorization: `Bearer ${token}` }));
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited, 'some request was limited');
    assert.equal(limited.json.errors[0].extensions.code, 'RATE_LIMITED');
  });

  it('rate limits IPv6 clients by their /64', async () => {
    const answers = [];
    for (let i = 0; i < 10; i++)
      answers.push(
        await post(
          t,
          { documentId: `sha256:${op('Categories').id}` },
          { 'x-forwarded-for': `2001:db8:1:2::${(i + 1).toString(16)}` },
        ),
      );
    assert.ok(
      answers.some((a) => a.status === 429),
      'addresses of one /64 share a bucket',
    );
  });

  it('caps sockets per user with 4029, and refuses unregistered subscriptions on the socket', async () => {
    const token = await register();
    const codes: (number | undefined)[] = [undefined, undefined, undefined];
    // The sockets open one after another, so the first is sure to be within the cap and only the third is over it.
    const clients = [socket(t, token, (code) => (codes[0] = code))];
    try {
      const refused = await refusedOnSocket(clients[0]!, { query: MESSAGE_ADDED, variables: { c: 'x' } });
      assert.equal(refused[0]!.extensions?.code, 'OPERATION_NOT_REGISTERED');
      clients.push(socket(t, token, (code) => (codes[1] = code)));
      await refusedOnSocket(clients[1]!, { query: MESSAGE_ADDED, variables: { c: 'x' } }).catch(() => []);
      clients.push(socket(t, token, (code) => (codes[2] = code)));
      await refusedOnSocket(clients[2]!, { query: MESSAGE_ADDED, variables: { c: 'x' } }).catch(() => []);
      assert.equal(codes.filter((c) => c === 4029).length, 1, `close codes: ${codes.join(',')}`);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it('holds off a caller whose documents keep being refused: a delayed 429 for everything it sends, over HTTP and the socket', async () => {
    const address = { 'x-forwarded-for': '203.0.113.90' };
    // One sustained point and a burst of two: the fourth refused document puts the address on hold.
    for (let i = 0; i < 4; i++) {
      const refused = await post(t, { query: `{ categories { id n${i}: name } }` }, address);
      assert.equal(refused.json.errors[0].extensions.code, 'OPERATION_NOT_REGISTERED');
    }
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the address bucket (1 a second, burst 3) refills
    // Registered operations still run for a held caller: they are not parsed, and others behind its address (a NAT)
    // may be the ones sending them.
    const registered = await post(t, { documentId: `sha256:${op('Categories').id}` }, address);
    assert.ok(registered.json.data?.categories, registered.text.slice(0, 300));
    const before = await subgraphRequests(t);
    const started = performance.now();
    const held = await post(t, { query: '{ categories { id } }' }, address);
    assert.equal(held.status, 429, held.text.slice(0, 300));
    assert.ok(performance.now() - started >= 450, `answered after ${performance.now() - started} ms`);
    assert.equal(held.json.errors[0].extensions.code, 'RATE_LIMITED');
    assert.match(held.json.errors[0].message, /refused documents/);
    assert.ok(Number(held.headers.get('retry-after')) >= 1);
    assert.equal(await subgraphRequests(t), before, 'no subgraph was asked');
    // An unknown persisted-query id is how automatic persisted queries start, not a refusal that counts.
    const other = { 'x-forwarded-for': '203.0.113.91' };
    for (let i = 0; i < 4; i++) {
      const unknown = await post(
        t,
        { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
        other,
      );
      assert.equal(unknown.json.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
    }
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the address bucket (1 a second, burst 3) refills
    const fine = await post(t, { documentId: `sha256:${op('Categories').id}` }, other);
    assert.ok(fine.json.data?.categories, fine.text.slice(0, 300));
    // On the socket a signed-in caller is held by user: its subscribe gets RATE_LIMITED, its socket stays open.
    const token = await register();
    const client = createClient({
      url: t.stack.endpoint.replace(/^http/, 'ws'),
      // An address of its own, so that the address bucket (1 a second) is this test's alone.
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols: string | string[]) {
          super(url, protocols, { headers: { 'x-forwarded-for': '203.0.113.92' } });
        }
      },
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    try {
      for (let i = 0; i < 4; i++) {
        const refused = await refusedOnSocket(client, { query: MESSAGE_ADDED, variables: { c: 'x' } });
        assert.equal(refused[0]!.extensions?.code, 'OPERATION_NOT_REGISTERED');
      }
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the address and user buckets refill
      const asked = performance.now();
      const onHold = await refusedOnSocket(client, { query: MESSAGE_ADDED, variables: { c: 'x' } });
      // Held, not merely over the address bucket (which answers at once): the error waited the refusal delay.
      assert.ok(performance.now() - asked >= 450, `answered after ${performance.now() - asked} ms`);
      assert.equal(onHold[0]!.extensions?.code, 'RATE_LIMITED');
      assert.ok(Number(onHold[0]!.extensions?.retryAfterSeconds) >= 1);
    } finally {
      await client.dispose();
    }
  });
});
