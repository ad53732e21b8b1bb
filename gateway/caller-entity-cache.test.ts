import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallerEntityCache } from './caller-entity-cache.js';
import type { EntityFeed } from '../foundation/http/feed-follower.js';

const ORDER_STATUS =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Order{id status}}}';
const ORDER_OFFERS =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Order{id offers{id}}}}';
const ALIASED =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Order{id s:status}}}';

/** FakeFeed is the gateway's copy of a subgraph's change feed as a test drives it. */
class FakeFeed implements EntityFeed {
  isSynced = true;
  outages = 0;
  private readonly listeners = new Set<(typename: string, id: string) => void>();
  onEntityChange(listener: (typename: string, id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  changed(typename: string, id: string): void {
    for (const listener of this.listeners) listener(typename, id);
  }
  lose(): void {
    this.isSynced = false;
    this.outages++;
  }
}

const order = (id: string) => ({ __typename: 'Order', id });
const status = (id: string, value: string) => ({ __typename: 'Order', id, status: value });
const customer = { key: 'customer-key', userId: 'customer' };
const provider = { key: 'provider-key', userId: 'provider' };

function made(settings: { maxEntries?: number; ttlMs?: number } = {}, withCatalog = true) {
  let clock = 1_000;
  const orders = new FakeFeed();
  const catalog = new FakeFeed();
  const counted = { hits: 0, misses: 0 };
  const cache = new CallerEntityCache(
    { maxEntries: settings.maxEntries ?? 100, ttlMs: settings.ttlMs ?? 60_000 },
    { order: orders, ...(withCatalog ? { catalog } : {}) },
    {
      lookups: (_subgraph, hits, misses) => {
        counted.hits += hits;
        counted.misses += misses;
      },
    },
    () => clock,
  );
  const fetch = cache.fetchOf('order', ORDER_STATUS)!;
  /** fetched keeps a caller's answers as a fetch sent now would, and gives what a look-up then finds. */
  const fetched = (caller: typeof customer, answers: Record<string, unknown>[]) => {
    const ticket = cache.ticket(fetch);
    const representations = answers.map((a) => order(a.id as string));
    cache.keep(fetch, ticket, caller, representations, answers);
  };
  const found = (caller: typeof customer, ...ids: string[]) =>
    cache.lookup(fetch, caller, ids.map(order)).map((a) => (a ? a.status : undefined));
  return { cache, fetch, orders, catalog, counted, fetched, found, advance: (ms: number) => (clock += ms) };
}

describe('CallerEntityCache', () => {
  it('keeps only fetches of the callers’ fields, and only with the feeds those fields are kept on', () => {
    const { cache } = made();
    assert.ok(cache.fetchOf('order', ORDER_STATUS));
    assert.equal(cache.fetchOf('order', ORDER_OFFERS), undefined, 'offers are not kept');
    assert.equal(cache.fetchOf('order', ALIASED), undefined, 'an alias is not kept');
    assert.equal(cache.fetchOf('user', ORDER_STATUS), undefined, 'user keeps nothing per caller');
    assert.equal(cache.fetchOf('order', '{ order(id: "x") { id status } }'), undefined, 'not an entity fetch');
    assert.equal(made({}, false).cache.fetchOf('order', ORDER_STATUS), undefined, 'skills decide who sees an order');
    assert.equal(made({ maxEntries: 0 }).cache.fetchOf('order', ORDER_STATUS), undefined, '0 keeps nothing');
  });

  it('answers each caller only what was fetched for that caller', () => {
    const { fetched, found, counted, cache } = made();
    fetched(customer, [status('o1', 'OPEN')]);
    assert.deepEqual(found(customer, 'o1'), ['OPEN']);
    assert.deepEqual(found(provider, 'o1'), [undefined], 'another caller asks the subgraph');
    assert.deepEqual(counted, { hits: 1, misses: 1 });
    fetched(provider, [status('o1', 'OPEN')]);
    assert.deepEqual(found(provider, 'o1'), ['OPEN']);
    assert.equal(cache.size, 2);
  });

  it('drops every caller’s answer of an order on its event, and only that order’s', () => {
    const { fetched, found, orders } = made();
    fetched(customer, [status('o1', 'OPEN'), status('o2', 'OPEN')]);
    fetched(provider, [status('o1', 'OPEN')]);
    orders.changed('Order', 'o1');
    assert.deepEqual(found(customer, 'o1', 'o2'), [undefined, 'OPEN']);
    assert.deepEqual(found(provider, 'o1'), [undefined]);
  });

  it('makes a user’s answers stale on an event about that user in the catalog feed (their skills)', () => {
    const { fetched, found, catalog, orders } = made();
    fetched(customer, [status('o1', 'OPEN')]);
    fetched(provider, [status('o1', 'OPEN')]);
    catalog.changed('User', 'provider');
    catalog.changed('Service', 'provider');
    orders.changed('User', 'customer');
    assert.deepEqual(found(provider, 'o1'), [undefined]);
    assert.deepEqual(found(customer, 'o1'), ['OPEN'], 'only a callerFeeds feed speaks of callers');
    fetched(provider, [status('o1', 'OPEN')]);
    assert.deepEqual(found(provider, 'o1'), ['OPEN'], 'kept again after the change');
  });

  it('keeps no answer of a fetch during which a change arrived', () => {
    const { cache, fetch, found, orders } = made();
    const ticket = cache.ticket(fetch);
    orders.changed('Order', 'o9');
    cache.keep(fetch, ticket, customer, [order('o1')], [status('o1', 'OPEN')]);
    assert.deepEqual(found(customer, 'o1'), [undefined]);
  });

  it('keeps nothing while a feed is out of sync, and forgets everything after an outage', () => {
    const { fetched, found, catalog, orders, cache, fetch } = made();
    fetched(customer, [status('o1', 'OPEN')]);
    catalog.lose();
    assert.deepEqual(found(customer, 'o1'), [undefined]);
    fetched(customer, [status('o1', 'OPEN')]);
    catalog.isSynced = true;
    assert.deepEqual(found(customer, 'o1'), [undefined], 'what was kept before the outage is gone');
    assert.equal(cache.size, 0);
    const ticket = cache.ticket(fetch);
    orders.lose();
    orders.isSynced = true;
    cache.keep(fetch, ticket, customer, [order('o1')], [status('o1', 'OPEN')]);
    assert.deepEqual(found(customer, 'o1'), [undefined], 'a fetch across an outage is not kept');
  });

  it('keeps no null answer (a caller who may not see the order asks each time), and nothing past its time', () => {
    const { cache, fetch, fetched, found, advance } = made({ ttlMs: 1000 });
    cache.keep(fetch, cache.ticket(fetch), provider, [order('o1')], [null]);
    assert.equal(cache.size, 0, 'nothing kept for a null answer');
    assert.deepEqual(found(provider, 'o1'), [undefined]);
    fetched(customer, [status('o1', 'OPEN')]);
    advance(999);
    assert.deepEqual(found(customer, 'o1'), ['OPEN']);
    advance(2);
    assert.deepEqual(found(customer, 'o1'), [undefined]);
    assert.equal(cache.size, 0);
  });

  it('is bounded: past its entries the order kept first goes with all its callers’ answers', () => {
    const { fetched, found, cache } = made({ maxEntries: 3 });
    fetched(customer, [status('o1', 'OPEN')]);
    fetched(provider, [status('o1', 'OPEN')]);
    fetched(customer, [status('o2', 'OPEN')]);
    fetched(customer, [status('o3', 'OPEN')]);
    assert.equal(cache.size, 2);
    assert.deepEqual(found(customer, 'o1', 'o2', 'o3'), [undefined, 'OPEN', 'OPEN']);
    assert.deepEqual(found(provider, 'o1'), [undefined]);
  });
});
