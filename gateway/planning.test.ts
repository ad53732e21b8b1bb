import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generatePrivateJwk, TokenSigner } from '../foundation/auth/tokens.js';
import { createGateway } from './gateway.js';
import { loadManifest } from './operation-admission.js';
import { planRegisteredOperations } from './planning.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** registeredOperations are the manifest's operations with their type, as the gateway plans them at start. */
function registeredOperations() {
  return [...loadManifest(`${root}schema/persisted-query-manifest.json`).values()].map((op) => ({
    ...op,
    type: op.document.definitions.find((d) => d.kind === 'OperationDefinition')?.operation,
  }));
}

/** hashOf is the key the gateway's plan store uses for a document's text, and with an operation name, for that one. */
function hashOf(body: string, name?: string): string {
  const queryHash = createHash('sha256').update(body).digest('hex');
  return name === undefined ? queryHash : createHash('sha256').update(queryHash).update(name).digest('hex');
}

describe('planning registered operations at start', () => {
  let made: ReturnType<typeof createGateway>;
  before(async () => {
    made = createGateway({
      supergraphSdl: readFileSync(`${root}schema/supergraph.graphql`, 'utf8'),
      subgraphUrls: {},
      subgraphTimeoutMs: 1000,
      subgraphConnections: 1,
      signer: await TokenSigner.create({ keys: [await generatePrivateJwk()] }),
      tokenTtlSeconds: 60,
      tokenCacheSize: 10,
      introspection: false,
      suggestions: false,
      maxTokens: 2000,
    });
    await made.apollo.start();
  });
  after(async () => {
    await made.apollo.stop();
    await made.close();
  });
  /** store is the gateway's query plan store, which its executor reads. */
  const store = () =>
    (made.gateway as unknown as { queryPlanStore: { get(key: string): Promise<unknown> } }).queryPlanStore;

  it('plans every registered query and mutation into the store the gateway reads, under the keys its executor uses', async () => {
    const operations = registeredOperations();
    const first = operations.find((op) => op.type === 'query')!;
    assert.equal(await store().get(hashOf(first.body)), undefined, 'nothing is planned before');
    const planned = await planRegisteredOperations(made.gateway, operations);
    assert.equal(planned, operations.filter((op) => op.type !== 'subscription').length);
    for (const op of operations.filter((o) => o.type !== 'subscription')) {
      const plan = (await store().get(hashOf(op.body, op.name))) as { kind?: string } | undefined;
      assert.equal(plan?.kind, 'QueryPlan', `${op.name} is planned`);
      assert.equal(await store().get(hashOf(op.body)), plan, `${op.name} sent without its name finds the same plan`);
    }
  });

  it("starts a query that asks `me` only for the order subgraph's fields at order (Query.me is shareable)", async () => {
    const operations = registeredOperations();
    await planRegisteredOperations(made.gateway, operations);
    const planOf = async (name: string) =>
      (await store().get(hashOf(operations.find((o) => o.name === name)!.body, name))) as {
        node?: { kind: string; nodes?: { kind: string; serviceName?: string }[] };
      };
    const fetchesOf = async (name: string) => {
      const plan = await planOf(name);
      const services: string[] = [];
      const visit = (node: unknown): void => {
        if (!node || typeof node !== 'object') return;
        const n = node as { kind?: string; serviceName?: string; node?: unknown; nodes?: unknown[] };
        if (n.kind === 'Fetch') services.push(n.serviceName!);
        if (n.node) visit(n.node);
        for (const child of n.nodes ?? []) visit(child);
      };
      visit(plan);
      return services;
    };
    assert.deepEqual(await fetchesOf('MyOffers'), ['order'], 'one fetch, no trip to user for the id');
    assert.deepEqual((await fetchesOf('MatchingOrders')).sort(), ['catalog', 'order', 'user']);
    assert.equal((await fetchesOf('MatchingOrders'))[0], 'order', 'MatchingOrders starts at order');
    // A query that needs user's own fields asks user for them, beside order for the rest (the same `me`).
    const dashboard = (await planOf('CustomerDashboard')).node!;
    assert.equal(dashboard.kind, 'Parallel');
    assert.deepEqual(
      dashboard.nodes!.map((n) => (n.kind === 'Fetch' ? n.serviceName : n.kind)),
      ['user', 'Sequence'],
    );
  });
});
