import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Stack } from '../scripts/stack.js';
import { startTestStack, type Session, type TestStack } from './harness.js';
import { OtlpReceiver } from './otlp-receiver.js';

const ORDER_PAGE = `
  query OrderPage($id: ID!) {
    order(id: $id) {
      id status description createdAt
      service { id name category { id name } }
      customer { id displayName }
      conversations { id provider { id displayName } }
    }
  }`;

async function post(endpoint: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    res,
    json: (await res.json()) as {
      data?: Record<string, any>;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}

describe('the whole stack, end to end', () => {
  let t: TestStack;
  let stack: Stack;
  let auth: Record<string, string>;
  let customer: Session;
  let provider: Session;
  const receiver = new OtlpReceiver();
  const order = randomUUID();
  const conversation = randomUUID();

  before(async () => {
    const otlp = await receiver.start();
    t = await startTestStack({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_TRACES_SAMPLER_ARG: '1' });
    stack = t.stack;
    customer = await t.register('CUSTOMER', 'Ann');
    provider = await t.register('PROVIDER', 'Pat');
    auth = { authorization: `Bearer ${customer.accessToken}` };
    const [service] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    await t.sql(
      'order',
      `INSERT INTO orders (id, customer_id, service_id, description) VALUES ($1, $2, $3, 'Kitchen tap drips')`,
      [order, customer.id, service.id],
    );
    await t.sql('chat', `INSERT INTO conversations (id, order_id, customer_id, provider_id) VALUES ($1, $2, $3, $4)`, [
      conversation,
      order,
      customer.id,
      provider.id,
    ]);
  });

  after(async () => {
    await t?.stop();
    await receiver.stop();
  });

  it('answers a query that crosses four subgraphs, echoing the request id', async () => {
    const { res, json } = await post(
      stack.endpoint,
      { query: ORDER_PAGE, variables: { id: order }, operationName: 'OrderPage' },
      { ...auth, 'x-request-id': 'e2e-order-page-1' },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'e2e-order-page-1');
    assert.equal(json.errors, undefined);
    const got = json.data!.order;
    assert.equal(got.id, order);
    assert.equal(got.status, 'OPEN');
    assert.equal(got.description, 'Kitchen tap drips');
    assert.equal(got.service.name, 'Leak repair');
    assert.equal(got.service.category.name, 'Plumbing');
    assert.deepEqual(got.customer, { id: customer.id, displayName: 'Ann' });
    assert.deepEqual(got.conversations, [{ id: conversation, provider: { id: provider.id, displayName: 'Pat' } }]);
    assert.match(got.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('makes a request id when the client sends none, and passes it to every subgraph it calls', async () => {
    const { res } = await post(stack.endpoint, { query: ORDER_PAGE, variables: { id: order } }, auth);
    const requestId = res.headers.get('x-request-id');
    assert.ok(requestId && requestId.length >= 16);
    await new Promise((r) => setTimeout(r, 300));
    for (const service of ['gateway', 'order', 'catalog', 'user', 'chat']) {
      const lines: Record<string, unknown>[] = readFileSync(join(stack.logDir, `${service}.log`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.requestId === requestId && l.msg === 'request');
      assert.equal(lines.length >= 1, true, `${service} logged the request`);
      const line = lines[0]!;
      assert.equal(typeof line.durationMs, 'number');
      assert.equal(line.outcome, 'ok');
      assert.match(String(line.traceId), /^[0-9a-f]{32}$/);
      assert.match(String(line.operationName), /^OrderPage/);
    }
  });

  it('ties the gateway span to one span per subgraph fetch, continued in each subgraph with resolver and SQL spans', async () => {
    const { res } = await post(
      stack.endpoint,
      { query: ORDER_PAGE, variables: { id: order } },
      { ...auth, 'x-request-id': 'e2e-trace-1' },
    );
    assert.equal(res.status, 200);
    let traceId = '';
    let seen = 'no gateway span of the request';
    await receiver
      .waitFor((spans) => {
        const root = spans.find((s) => s.service === 'gateway' && s.attributes['fixup.request_id'] === 'e2e-trace-1');
        if (!root) return false;
        traceId = root.traceId;
        const services = new Set(spans.filter((s) => s.traceId === traceId && s.kind === 2).map((s) => s.service));
        const sql = spans.some((s) => s.traceId === traceId && s.service === 'order' && s.name.startsWith('pg.'));
        seen = `server spans from ${[...services].join(', ') || 'none'}; an order SQL span: ${sql}`;
        return ['gateway', 'order', 'catalog', 'user', 'chat'].every((s) => services.has(s)) && sql;
      })
      .catch((err: Error) => {
        throw new Error(`${err.message}; in the request's trace: ${seen}`);
      });
    const trace = receiver.spans.filter((s) => s.traceId === traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const root = trace.find((s) => s.service === 'gateway' && s.parentSpanId === '')!;
    assert.equal(root.name, 'POST /graphql');
    const fetches = trace.filter((s) => s.service === 'gateway' && s.name === 'gateway.fetch');
    assert.ok(fetches.length >= 4, `one fetch span per subgraph fetch (${fetches.length})`);
    const ancestors = (span: (typeof trace)[number]) => {
      const chain: (typeof trace)[number][] = [];
      for (let s = byId.get(span.parentSpanId); s; s = byId.get(s.parentSpanId)) chain.push(s);
      return chain;
    };
    for (const fetch of fetches)
      assert.ok(ancestors(fetch).includes(root), 'each fetch descends from the request span');
    for (const service of ['order', 'catalog', 'user', 'chat']) {
      const serverSpans = trace.filter((s) => s.service === service && s.kind === 2);
      assert.ok(serverSpans.length >= 1, `${service} continued the trace`);
      for (const span of serverSpans)
        assert.equal(
          byId.get(span.parentSpanId)?.name,
          'gateway.fetch',
          `${service}'s span is a child of a gateway fetch`,
        );
    }
    const resolver = trace.find((s) => s.service === 'order' && s.name === 'resolve Query.order');
    assert.ok(resolver, 'order has a resolver span');
    const sql = trace.filter((s) => s.service === 'order' && s.name.startsWith('pg.'));
    assert.ok(
      sql.some((s) => ancestors(s).includes(resolver!)),
      'SQL spans nest under the resolver span',
    );
  });

  it('maps errors to the contract codes and masks nothing expected', async () => {
    const bad = await post(stack.endpoint, { query: ORDER_PAGE, variables: { id: 'not-an-id' } }, auth);
    assert.equal(bad.json.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(bad.json.errors?.[0]?.extensions?.field, 'id');
    const missing = await post(stack.endpoint, { query: ORDER_PAGE, variables: { id: randomUUID() } }, auth);
    assert.equal(missing.json.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.equal(missing.json.data?.order, null);
    const invalid = await post(stack.endpoint, { query: '{ nope }' });
    assert.equal(invalid.json.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    const unparsable = await post(stack.endpoint, { query: '{ order(' });
    assert.equal(unparsable.json.errors?.[0]?.extensions?.code, 'GRAPHQL_PARSE_FAILED');
  });

  it('serves health, readiness and metrics on each admin port (only health on the public one), GET queries and the offline IDE', async () => {
    const gateway = new URL(stack.endpoint);
    for (const service of stack.services) {
      const admin = stack.adminOf(service.name);
      assert.equal(service.admin, admin);
      assert.notEqual(new URL(admin).port, new URL(service.url).port, `${service.name} has an admin port of its own`);
      for (const base of [admin, service.url])
        assert.deepEqual(await (await fetch(new URL('/healthz', base))).json(), {
          status: 'alive',
          service: service.name,
        });
      assert.equal((await fetch(new URL('/readyz', admin))).status, 200, `${service.name} is ready`);
      assert.match(await (await fetch(new URL('/metrics', admin))).text(), /^# HELP /m);
      for (const path of ['/readyz', '/metrics'])
        assert.equal(
          (await fetch(new URL(path, service.url))).status,
          404,
          `${service.name}: no ${path} on the public port`,
        );
      assert.equal(
        (await fetch(new URL('/graphql', admin))).status,
        404,
        `${service.name}: the admin port serves no GraphQL`,
      );
    }
    const ready = (await (await fetch(new URL('/readyz', stack.adminOf('gateway')))).json()) as {
      status: string;
      subgraphs: Record<string, string>;
    };
    assert.deepEqual(ready.subgraphs, { user: 'up', catalog: 'up', order: 'up', chat: 'up', audit: 'up' });
    const metrics = await (await fetch(new URL('/metrics', stack.adminOf('gateway')))).text();
    assert.match(
      metrics,
      /fixup_graphql_operation_duration_seconds_count\{[^}]*operation="unregistered"/,
      'OrderPage is not a registered operation',
    );
    const get = await fetch(`${stack.endpoint}?query=${encodeURIComponent('{ categories { name } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(get.status, 200);
    assert.ok(((await get.json()) as { data: { categories: unknown[] } }).data.categories.length > 0);
    const page = await fetch(stack.endpoint, { headers: { accept: 'text/html' } });
    const html = await page.text();
    assert.match(html, /<div id="graphiql">/);
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      assert.ok(src[1]!.startsWith('/'), `asset ${src[1]} is served locally`);
      const asset = await fetch(new URL(src[1]!, gateway));
      assert.equal(asset.status, 200, src[1]);
    }
  });

  it('reports a subgraph not ready when its database goes away, its fields SERVICE_UNAVAILABLE (the gateway stays in rotation), and ready again when it is back', async () => {
    const database = `${t.prefix}_order`;
    const orderUrl = new URL('/readyz', stack.adminOf('order'));
    const gatewayReady = new URL('/readyz', stack.adminOf('gateway'));
    await t.sql('catalog', `ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS false`);
    await t.sql('catalog', `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [database]);
    try {
      const direct = await fetch(orderUrl);
      assert.equal(direct.status, 503);
      const body = (await direct.json()) as Record<string, string>;
      assert.equal(body.status, 'not ready');
      assert.match(body.database!, /unreachable/);
      const viaGateway = await fetch(gatewayReady);
      assert.equal(viaGateway.status, 200);
      const states = ((await viaGateway.json()) as { subgraphs: Record<string, string> }).subgraphs;
      assert.equal(states.order, 'up', "the order process answers (its readiness is its orchestrator's business)");
      assert.equal(states.catalog, 'up');
      const during = await post(stack.endpoint, { query: ORDER_PAGE, variables: { id: order } }, auth);
      assert.equal(during.json.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE');
      assert.doesNotMatch(
        during.json.errors?.[0]?.message ?? '',
        /postgres|ECONNREFUSED|database "|localhost/i,
        'nothing of the database leaks',
      );
      assert.equal(during.json.data?.order, null);
    } finally {
      await t.sql('catalog', `ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`);
    }
    assert.equal((await fetch(orderUrl)).status, 200);
    const states = ((await (await fetch(gatewayReady)).json()) as { subgraphs: Record<string, string> }).subgraphs;
    assert.equal(states.order, 'up');
    const after = await post(stack.endpoint, { query: ORDER_PAGE, variables: { id: order } }, auth);
    assert.equal(after.json.data?.order?.id, order, 'a failed request did not take the service down');
  });

  it('stops every process cleanly, gateway first', async () => {
    const exitCodes = await stack.stop();
    assert.deepEqual(exitCodes, { gateway: 0, user: 0, catalog: 0, order: 0, chat: 0, audit: 0 });
    const stopped = (name: string) =>
      readFileSync(join(stack.logDir, `${name}.log`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; time: string })
        .find((l) => l.msg === 'stopped')?.time;
    const gatewayStopped = stopped('gateway');
    assert.ok(gatewayStopped);
    for (const name of ['user', 'catalog', 'order', 'chat', 'audit']) {
      const at = stopped(name);
      assert.ok(at && at >= gatewayStopped, `${name} stopped after the gateway`);
    }
    await assert.rejects(fetch(stack.endpoint), 'nothing listens any more');
  });
});
