import { asyncContextIsBuiltIn } from '../foundation/http/request-context.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../scripts/supergraph.js';
import { metricNamesOf } from '../scripts/promql.js';
import { startTestStack, waitForMetric, type Session, type TestStack } from './harness.js';

/** EVERY_PROCESS are the metrics each process serves. */
const EVERY_PROCESS = [
  'fixup_http_request_duration_seconds',
  'fixup_graphql_operation_duration_seconds',
  'fixup_graphql_errors_total',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_gc_duration_seconds',
  'nodejs_heap_size_used_bytes',
  'process_cpu_seconds_total',
];
const EVERY_SUBGRAPH = [
  'fixup_db_statements_total',
  'fixup_db_statement_duration_seconds',
  'fixup_db_pool_connections',
  'fixup_db_pool_max_connections',
  'fixup_db_pool_waiting_requests',
];
const OUTBOX = [
  'fixup_outbox_backlog_events',
  'fixup_outbox_oldest_event_age_seconds',
  'fixup_outbox_relay_failures_total',
  'fixup_outbox_delivered_events_total',
];
const EXPECTED: Record<string, string[]> = {
  gateway: [
    ...EVERY_PROCESS,
    'fixup_gateway_subgraph_fetch_duration_seconds',
    'fixup_gateway_subgraph_fetch_errors_total',
    'fixup_gateway_subgraph_fetches_in_flight',
    'fixup_gateway_phase_duration_seconds',
    'fixup_gateway_plan_cache_lookups_total',
    'fixup_gateway_entity_cache_lookups_total',
    'fixup_gateway_refusals_total',
    'fixup_gateway_websocket_connections',
    'fixup_gateway_slow_consumer_closes_total',
    'fixup_gateway_subscriptions',
    'fixup_gateway_subscription_deliveries_total',
    'fixup_gateway_subscription_upstream_reconnects_total',
    'fixup_gateway_subgraph_up',
  ],
  user: [...EVERY_PROCESS, ...EVERY_SUBGRAPH, ...OUTBOX, 'fixup_user_session_feed_subscribers'],
  catalog: [...EVERY_PROCESS, ...EVERY_SUBGRAPH, ...OUTBOX, 'fixup_catalog_feed_subscribers'],
  order: [
    ...EVERY_PROCESS,
    ...EVERY_SUBGRAPH,
    ...OUTBOX,
    'fixup_order_skills_lookups_total',
    'fixup_order_kept_skills',
    'fixup_order_catalog_feed_synced',
  ],
  chat: [
    ...EVERY_PROCESS,
    ...EVERY_SUBGRAPH,
    ...OUTBOX,
    'fixup_chat_listen_connected',
    'fixup_chat_fanout_lag_seconds',
  ],
  audit: [
    ...EVERY_PROCESS,
    ...EVERY_SUBGRAPH,
    'fixup_audit_events_ingested_total',
    'fixup_audit_events_duplicates_total',
  ],
};

/** Scrape is one process's metrics: the declared names and types, and the samples. */
interface Scrape {
  types: Map<string, string>;
  text: string;
}

function parseScrape(text: string): Scrape {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return { types, text };
}

/** sample reads the value of the first series of a metric whose labels include every given pair. */
function sample(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const match of scrape.text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const text = match[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => text.includes(`${k}="${v}"`))) return Number(match[2]);
  }
  return undefined;
}

/** known tells whether a series name is served, counting a histogram's _bucket, _sum and _count. */
function known(name: string, scrapes: Scrape[]): boolean {
  return scrapes.some((s) => {
    if (s.types.has(name)) return true;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return base !== name && (s.types.get(base) === 'histogram' || s.types.get(base) === 'summary');
  });
}

/** PROMETHEUS_SERIES are series Prometheus makes itself from each scrape. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

describe('metrics, dashboards and alerts on a running stack', { timeout: 240_000 }, () => {
  let t: TestStack;
  let customer: Session;
  const metricsUrl = (name: string) => new URL('/metrics', t.stack.adminOf(name)).toString();
  const scrape = async (name: string) => parseScrape(await (await fetch(metricsUrl(name))).text());

  before(async () => {
    t = await startTestStack();
    customer = await t.register('CUSTOMER', 'Mia');
    const auth = { token: customer.accessToken };
    await t.gql('query Categories { categories { id name } }');
    await t.gql('query Categories { categories { id name } }');
    await t.gql('query Me { me { id displayName } }', {}, auth);
    await t.gql('{ nope }');
    await t.gql('query Me { me { id } }', {}, { token: 'not a token' });
  });

  after(async () => {
    await t?.stop();
  });

  it('serves every named metric on every process, with values that follow the traffic', async () => {
    // Order follows the catalog's feed from its start, and may have tried before catalog listened: wait for it.
    await waitForMetric(t, 'order', 'fixup_order_catalog_feed_synced', 1);
    const scrapes: Record<string, Scrape> = {};
    for (const name of Object.keys(EXPECTED)) scrapes[name] = await scrape(name);
    for (const [name, metrics] of Object.entries(EXPECTED)) {
      const missing = metrics.filter((m) => !scrapes[name]!.types.has(m));
      assert.deepEqual(missing, [], `${name} serves ${missing.join(', ')}`);
    }
    const gateway = scrapes.gateway!;
    assert.ok(
      sample(gateway, 'fixup_graphql_operation_duration_seconds_count', { operation: 'Categories', outcome: 'ok' })! >=
        2,
      'registered names are labels',
    );
    assert.ok(
      sample(gateway, 'fixup_graphql_operation_duration_seconds_count', { operation: 'unregistered' })! >= 1,
      'anything else is unregistered',
    );
    assert.ok(
      sample(gateway, 'fixup_gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'catalog', outcome: 'ok' })! >=
        2,
    );
    assert.ok(sample(gateway, 'fixup_gateway_plan_cache_lookups_total', { result: 'miss' })! >= 1);
    assert.ok(
      sample(gateway, 'fixup_gateway_plan_cache_lookups_total', { result: 'hit' })! >= 1,
      'the second Categories reuses its plan',
    );
    assert.ok(sample(gateway, 'fixup_gateway_phase_duration_seconds_count', { phase: 'plan' })! >= 1);
    assert.ok(sample(gateway, 'fixup_gateway_phase_duration_seconds_count', { phase: 'parse' })! >= 1);
    assert.equal(sample(gateway, 'fixup_gateway_refusals_total', { reason: 'graphql_validation_failed' }), 1);
    assert.equal(sample(gateway, 'fixup_gateway_refusals_total', { reason: 'unauthenticated' }), 1);
    assert.equal(sample(gateway, 'fixup_gateway_subgraph_fetches_in_flight', { subgraph: 'catalog' }), 0);
    assert.equal(
      sample(scrapes.user!, 'fixup_user_session_feed_subscribers'),
      1,
      'the gateway follows the session feed',
    );
    assert.equal(
      sample(scrapes.catalog!, 'fixup_catalog_feed_subscribers'),
      2,
      "the gateway and order follow the catalog's feed",
    );
    assert.equal(sample(scrapes.order!, 'fixup_order_catalog_feed_synced'), 1);
    assert.equal(sample(scrapes.chat!, 'fixup_chat_listen_connected'), 1);
    assert.equal(sample(scrapes.catalog!, 'fixup_db_pool_max_connections'), 10);
    assert.ok(
      sample(scrapes.catalog!, 'fixup_db_statement_duration_seconds_count', { statement: 'SELECT categories' })! >= 1,
      'statements are labelled by verb and table',
    );
    assert.ok(sample(scrapes.user!, 'fixup_outbox_oldest_event_age_seconds')! >= 0);
    // Statements are told apart by request only where following a request through its awaits is cheap (Node 24+).
    const counted = asyncContextIsBuiltIn ? 'request' : 'unattributed';
    const notCounted = asyncContextIsBuiltIn ? 'unattributed' : 'request';
    assert.ok(sample(scrapes.catalog!, 'fixup_db_statements_total', { origin: counted })! >= 1, counted);
    assert.equal(sample(scrapes.catalog!, 'fixup_db_statements_total', { origin: notCounted }), undefined, notCounted);
  });

  it('counts audit events as they are relayed and ingested', async () => {
    let audit = await scrape('audit');
    for (let i = 0; i < 100 && !(sample(audit, 'fixup_audit_events_ingested_total')! > 0); i++) {
      await new Promise((r) => setTimeout(r, 200));
      audit = await scrape('audit');
    }
    assert.ok(sample(audit, 'fixup_audit_events_ingested_total')! >= 1, 'user.registered reached the audit subgraph');
    assert.ok(sample(await scrape('user'), 'fixup_outbox_delivered_events_total')! >= 1);
  });

  it('uses in dashboards and alert rules only metrics that exist', async () => {
    const scrapes = await Promise.all(Object.keys(EXPECTED).map(scrape));
    const expressions: { where: string; expr: string }[] = [];
    const dir = join(ROOT, 'deploy', 'grafana', 'dashboards');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        panels: { title: string; type: string; targets?: { expr: string }[] }[];
      };
      const panels = dashboard.panels.filter((p) => p.type !== 'row');
      assert.ok(panels.length > 0, `${file} has panels`);
      for (const panel of panels) {
        assert.ok(panel.targets?.length, `${file}: "${panel.title}" has a query`);
        for (const target of panel.targets!) expressions.push({ where: `${file}: ${panel.title}`, expr: target.expr });
      }
    }
    const rules = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string; annotations?: { runbook?: string } }[] }[];
    };
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      assert.ok(rule.annotations?.runbook, `${rule.alert} has a runbook line`);
      expressions.push({ where: `alert ${rule.alert}`, expr: rule.expr });
    }
    assert.ok(expressions.length > 40);
    const dead: string[] = [];
    for (const { where, expr } of expressions) {
      const names = metricNamesOf(expr);
      assert.ok(names.length > 0, `${where} reads a metric`);
      for (const name of names)
        if (!PROMETHEUS_SERIES.has(name) && !known(name, scrapes)) dead.push(`${where}: ${name}`);
    }
    assert.deepEqual(dead, []);
  });

  it('stays ready with a subgraph down, which shows in /readyz, in metrics and as SERVICE_UNAVAILABLE on its fields only', async () => {
    await t.stack.stopService('order');
    try {
      const ready = await fetch(new URL('/readyz', t.stack.adminOf('gateway')));
      assert.equal(ready.status, 200, 'the gateway stays in rotation');
      const body = (await ready.json()) as { status: string; subgraphs: Record<string, string> };
      assert.equal(body.status, 'ready');
      assert.match(body.subgraphs.order!, /^unreachable/);
      assert.equal(body.subgraphs.catalog, 'up');
      assert.equal(sample(await scrape('gateway'), 'fixup_gateway_subgraph_up', { subgraph: 'order' }), 0);
      const res = await t.gql(
        'query { categories { name } order(id: $id) { id } }'.replace('query {', 'query ($id: ID!) {'),
        { id: randomUUID() },
        { token: customer.accessToken },
      );
      assert.equal(res.status, 200);
      assert.ok(res.data?.categories.length > 0, 'the rest of the answer stands');
      assert.equal(res.data?.order, null);
      assert.deepEqual(
        res.errors?.map((e) => e.extensions?.code),
        ['SERVICE_UNAVAILABLE'],
      );
      const health = await fetch(new URL('/healthz', t.stack.endpoint));
      assert.deepEqual(await health.json(), { status: 'alive', service: 'gateway' });
      assert.ok(
        sample(await scrape('gateway'), 'fixup_gateway_subgraph_fetch_errors_total', {
          subgraph: 'order',
          code: 'SERVICE_UNAVAILABLE',
        })! >= 1,
      );
    } finally {
      await t.stack.startService('order');
    }
    const again = (await (await fetch(new URL('/readyz', t.stack.adminOf('gateway')))).json()) as {
      subgraphs: Record<string, string>;
    };
    assert.equal(again.subgraphs.order, 'up');
  });
});
