import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_KEPT_LIST, SharedEntityCache } from './entity-cache.js';
import type { EntityFeed } from '../foundation/http/feed-follower.js';

const USER_NAMES =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on User{displayName}}}';
const USER_AVATARS =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on User{__typename id avatarUrl}}}';
const USER_EMAILS = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{email}}}';
const SERVICE_NAMES =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Service{id name}}}';

/** FakeFeed is the gateway's copy of a subgraph's change feed as a test drives it. */
class FakeFeed implements EntityFeed {
  isSynced = true;
  outages = 0;
  private listener: ((typename: string, id: string) => void) | undefined;
  onEntityChange(listener: (typename: string, id: string) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  profileChanged(userId: string): void {
    this.listener?.('User', userId);
  }
  changed(typename: string, id: string): void {
    this.listener?.(typename, id);
  }
  lose(): void {
    this.isSynced = false;
    this.outages++;
  }
}

const SKILLS =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on User{skills{id name}}}}';

const user = (id: string) => ({ __typename: 'User', id });
/** named is a user's answer to a fetch of names, as the subgraph and the cache give it. */
const named = (_id: string, displayName: string) => ({ __typename: 'User', displayName });
/** service is a service as a representation's answer to SERVICE_NAMES. */
const service = (id: string) => ({ __typename: 'Service', id, name: id.toUpperCase() });
const serviceRef = (id: string) => ({ __typename: 'Service', id });

function made(
  settings: { maxEntries?: number; ttlMs?: number } = {},
  feed: EntityFeed | null = new FakeFeed(),
  catalogFeed: EntityFeed | null = new FakeFeed(),
) {
  let clock = 1_000;
  const counted = { hits: 0, misses: 0 };
  const cache = new SharedEntityCache(
    { maxEntries: settings.maxEntries ?? 100, ttlMs: settings.ttlMs ?? 60_000 },
    { ...(feed ? { user: feed } : {}), ...(catalogFeed ? { catalog: catalogFeed } : {}) },
    {
      lookups: (_subgraph, hits, misses) => {
        counted.hits += hits;
        counted.misses += misses;
      },
    },
    () => clock,
  );
  return { cache, counted, advance: (ms: number) => (clock += ms) };
}

describe('SharedEntityCache', () => {
  it('keeps only fetches that select shared fields of a subgraph it can keep', () => {
    const { cache } = made();
    assert.ok(cache.fetchOf('user', USER_NAMES));
    assert.ok(cache.fetchOf('user', USER_AVATARS));
    assert.ok(cache.fetchOf('catalog', SERVICE_NAMES));
    assert.equal(cache.fetchOf('user', USER_EMAILS), undefined, 'email is the owner’s');
    assert.equal(cache.fetchOf('order', USER_NAMES), undefined, 'order keeps nothing shared');
    assert.equal(cache.fetchOf('user', '{ me { id displayName } }'), undefined, 'not an entity fetch');

    const withoutFeed = made({}, null).cache;
    assert.equal(withoutFeed.fetchOf('user', USER_NAMES), undefined, 'users are kept only with a feed of changes');
    assert.ok(withoutFeed.fetchOf('catalog', SERVICE_NAMES), 'services never change');
    assert.equal(made({ maxEntries: 0 }).cache.fetchOf('catalog', SERVICE_NAMES), undefined, '0 keeps nothing');
  });

  it('keeps per entity the values of its shared fields only, whatever documents ask', () => {
    const { cache } = made();
    const aliased =
      'query($representations:[_Any!]!){_entities(representations:$representations){...on User{n: displayName}}}';
    assert.equal(cache.fetchOf('user', aliased), undefined, 'an aliased fetch is not kept');
    const both =
      'query($representations:[_Any!]!){_entities(representations:$representations){...on User{displayName avatarUrl}}}';
    const names = cache.fetchOf('user', USER_NAMES)!;
    const avatars = cache.fetchOf('user', USER_AVATARS)!;
    cache.keep(names, cache.ticket(names), [user('a')], [named('a', 'Ann')]);
    assert.deepEqual(cache.lookup(cache.fetchOf('user', both)!, [user('a')]), [undefined], 'avatarUrl is not kept yet');
    cache.keep(avatars, cache.ticket(avatars), [user('a')], [{ __typename: 'User', id: 'a', avatarUrl: null }]);
    assert.deepEqual(cache.lookup(cache.fetchOf('user', both)!, [user('a')]), [
      { __typename: 'User', displayName: 'Ann', avatarUrl: null },
    ]);
    assert.equal(cache.size, 1);
  });

  it('answers what a fetch of the same text kept, per entity, and counts hits and misses', () => {
    const { cache, counted } = made();
    const names = cache.fetchOf('user', USER_NAMES)!;
    const avatars = cache.fetchOf('user', USER_AVATARS)!;
    cache.keep(
      names,
      cache.ticket(names),
      [user('a'), user('b'), user('c')],
      [named('a', 'Ann'), null, named('c', 'Cy')],
    );
    const found = cache.lookup(names, [user('a'), user('b'), user('c'), user('d')]);
    assert.deepEqual(found, [named('a', 'Ann'), undefined, named('c', 'Cy'), undefined], 'a null answer is not kept');
    assert.deepEqual(counted, { hits: 2, misses: 2 });
    assert.deepEqual(cache.lookup(avatars, [user('a')]), [undefined], 'another selection is not answered');
    const other = { __typename: 'User', id: 'a', extra: 1 };
    cache.keep(names, cache.ticket(names), [other], [named('a', 'Other')]);
    assert.deepEqual(cache.lookup(names, [user('a')]), [named('a', 'Ann')], 'only { __typename, id } is a key');
  });

  it('uses an entity until its time is up, and drops the oldest past its bound', () => {
    const { cache, advance } = made({ maxEntries: 2, ttlMs: 1_000 });
    const services = cache.fetchOf('catalog', SERVICE_NAMES)!;
    cache.keep(services, cache.ticket(services), [serviceRef('s1'), serviceRef('s2')], [service('s1'), service('s2')]);
    advance(500);
    cache.keep(services, cache.ticket(services), [serviceRef('s3')], [service('s3')]);
    assert.equal(cache.size, 2);
    assert.deepEqual(cache.lookup(services, [serviceRef('s1'), serviceRef('s2'), serviceRef('s3')]), [
      undefined,
      service('s2'),
      service('s3'),
    ]);
    advance(600);
    assert.deepEqual(cache.lookup(services, [serviceRef('s2'), serviceRef('s3')]), [undefined, service('s3')]);
    assert.equal(cache.size, 1);
  });

  it('drops past its bound from the most numerous type, so the few services stay', () => {
    const { cache } = made({ maxEntries: 3 });
    const services = cache.fetchOf('catalog', SERVICE_NAMES)!;
    const names = cache.fetchOf('user', USER_NAMES)!;
    cache.keep(services, cache.ticket(services), [serviceRef('s1')], [service('s1')]);
    cache.keep(names, cache.ticket(names), [user('a'), user('b')], [named('a', 'Ann'), named('b', 'Bo')]);
    cache.keep(names, cache.ticket(names), [user('c')], [named('c', 'Cy')]);
    assert.equal(cache.size, 3);
    assert.deepEqual(cache.lookup(names, [user('a'), user('b'), user('c')]), [
      undefined,
      named('b', 'Bo'),
      named('c', 'Cy'),
    ]);
    assert.deepEqual(cache.lookup(services, [serviceRef('s1')]), [service('s1')]);
  });

  it("drops a user on the feed's profile event, and keeps nothing fetched while one arrived", () => {
    const feed = new FakeFeed();
    const { cache } = made({}, feed);
    const names = cache.fetchOf('user', USER_NAMES)!;
    cache.keep(names, cache.ticket(names), [user('a'), user('b')], [named('a', 'Ann'), named('b', 'Bo')]);
    feed.profileChanged('a');
    assert.deepEqual(cache.lookup(names, [user('a'), user('b')]), [undefined, named('b', 'Bo')]);

    // A fetch in flight when a change arrives may have read the row before it changed.
    const ticket = cache.ticket(names);
    feed.profileChanged('z');
    cache.keep(names, ticket, [user('a')], [named('a', 'Ann (old)')]);
    assert.deepEqual(cache.lookup(names, [user('a')]), [undefined]);
    cache.keep(names, cache.ticket(names), [user('a')], [named('a', 'Ann (new)')]);
    assert.deepEqual(cache.lookup(names, [user('a')]), [named('a', 'Ann (new)')]);
  });

  it('keeps and answers no user while the feed is out of sync, and forgets every user kept before an outage', () => {
    const feed = new FakeFeed();
    const { cache } = made({}, feed);
    const names = cache.fetchOf('user', USER_NAMES)!;
    const services = cache.fetchOf('catalog', SERVICE_NAMES)!;
    cache.keep(names, cache.ticket(names), [user('a')], [named('a', 'Ann')]);
    cache.keep(services, cache.ticket(services), [serviceRef('s')], [service('s')]);
    const ticket = cache.ticket(names);
    feed.lose();
    assert.deepEqual(cache.lookup(names, [user('a')]), [undefined]);
    cache.keep(names, cache.ticket(names), [user('b')], [named('b', 'Bo')]);
    feed.isSynced = true;
    assert.deepEqual(cache.lookup(names, [user('a'), user('b')]), [undefined, undefined]);
    cache.keep(names, ticket, [user('c')], [named('c', 'Cy')]);
    assert.deepEqual(cache.lookup(names, [user('c')]), [undefined], 'fetched before the outage');
    assert.deepEqual(cache.lookup(services, [serviceRef('s')]), [service('s')], 'services stay');
  });

  it("keeps a provider's skills as services' ids, only with the catalog's feed, and only of shared service fields", () => {
    const { cache } = made();
    assert.ok(cache.fetchOf('catalog', SKILLS));
    const entities = (body: string) =>
      `query($representations:[_Any!]!){_entities(representations:$representations){...on User{${body}}}}`;
    assert.ok(cache.fetchOf('catalog', entities('skills{__typename id name description}')));
    assert.equal(cache.fetchOf('catalog', entities('skills{id category{id}}')), undefined, 'a nested object');
    assert.equal(cache.fetchOf('catalog', entities('skills{id n: name}')), undefined, 'an alias inside');
    assert.equal(cache.fetchOf('catalog', entities('skills{id providers{id}}')), undefined, 'not a shared field');
    assert.equal(cache.fetchOf('user', entities('skills{id name}')), undefined, "user's User has no skills");
    assert.equal(made({}, null, null).cache.fetchOf('catalog', SKILLS), undefined, 'skills change: a feed is needed');
    assert.ok(made({}, null, null).cache.fetchOf('catalog', SERVICE_NAMES), 'services need none');
  });

  it('answers skills from the kept ids and the kept services, and drops them on the catalog event', () => {
    const users = new FakeFeed();
    const catalog = new FakeFeed();
    const { cache } = made({}, users, catalog);
    const skills = cache.fetchOf('catalog', SKILLS)!;
    const services = cache.fetchOf('catalog', SERVICE_NAMES)!;
    const answer = (ids: string[]) => ({
      __typename: 'User',
      skills: ids.map((id) => ({ id, name: id.toUpperCase() })),
    });
    cache.keep(skills, cache.ticket(skills), [user('p'), user('q')], [answer(['s1', 's2']), answer([])]);
    assert.deepEqual(cache.lookup(skills, [user('p'), user('q')]), [answer(['s1', 's2']), answer([])]);
    assert.deepEqual(cache.lookup(services, [serviceRef('s1')]), [service('s1')], 'the listed services are kept');
    assert.equal(cache.size, 4);

    users.profileChanged('p');
    assert.deepEqual(cache.lookup(skills, [user('p')]), [answer(['s1', 's2'])], "user's feed is not catalog's");
    catalog.profileChanged('p');
    assert.deepEqual(cache.lookup(skills, [user('p'), user('q')]), [undefined, answer([])]);

    const ticket = cache.ticket(skills);
    catalog.profileChanged('z');
    cache.keep(skills, ticket, [user('p')], [answer(['s3'])]);
    assert.deepEqual(cache.lookup(skills, [user('p')]), [undefined], 'fetched while a change arrived');

    cache.keep(skills, cache.ticket(skills), [user('p')], [answer(['s3'])]);
    catalog.lose();
    catalog.isSynced = true;
    assert.deepEqual(cache.lookup(skills, [user('p'), user('q')]), [undefined, undefined], 'an outage drops skills');
    assert.deepEqual(cache.lookup(services, [serviceRef('s3')]), [service('s3')], 'services stay');
  });

  it('misses skills whose listed service is no longer kept', () => {
    const { cache } = made();
    const skills = cache.fetchOf('catalog', SKILLS)!;
    const kept = {
      __typename: 'User',
      skills: [
        { id: 's1', name: 'S1' },
        { id: 's2', name: 'S2' },
      ],
    };
    cache.keep(skills, cache.ticket(skills), [user('p')], [kept]);
    assert.deepEqual(cache.lookup(skills, [user('p')]), [kept]);
    cache.forget('catalog', 'Service', 's2');
    assert.deepEqual(cache.lookup(skills, [user('p')]), [undefined], 'asked again, not answered without s2');
  });

  it('keeps nothing fetched while the feed was out of sync, nor a list longer than its bound', () => {
    const catalog = new FakeFeed();
    const { cache } = made({}, new FakeFeed(), catalog);
    const skills = cache.fetchOf('catalog', SKILLS)!;
    const kept = { __typename: 'User', skills: [{ id: 's1', name: 'S1' }] };
    catalog.isSynced = false;
    const ticket = cache.ticket(skills);
    // In sync again without an outage counted (a follower's first sync): the fetch may have read a row whose event
    // the feed will never send.
    catalog.isSynced = true;
    cache.keep(skills, ticket, [user('p')], [kept]);
    assert.deepEqual(cache.lookup(skills, [user('p')]), [undefined]);

    const many = Array.from({ length: MAX_KEPT_LIST + 1 }, (_, i) => ({ id: `s${i}`, name: `S${i}` }));
    cache.keep(skills, cache.ticket(skills), [user('q')], [{ __typename: 'User', skills: many }]);
    assert.deepEqual(cache.lookup(skills, [user('q')]), [undefined]);
    cache.keep(skills, cache.ticket(skills), [user('q')], [{ __typename: 'User', skills: many.slice(1) }]);
    assert.equal(cache.lookup(skills, [user('q')])[0]?.skills instanceof Array, true, 'at the bound it is kept');
  });

  it("answers a service's category and default page of providers, drops the page on its service's event, and keeps the names through an outage", () => {
    const catalog = new FakeFeed();
    const { cache } = made({}, new FakeFeed(), catalog);
    const details = cache.fetchOf(
      'catalog',
      'query($representations:[_Any!]!){_entities(representations:$representations){...on Service{name category{id name} providers{__typename id}}}}',
    )!;
    assert.ok(details.feed, 'providers follow the feed');
    const entities = (body: string) =>
      `query($representations:[_Any!]!){_entities(representations:$representations){...on Service{${body}}}}`;
    assert.equal(cache.fetchOf('catalog', entities('providers(first: 5){id}')), undefined, 'only the default page');
    const services = cache.fetchOf('catalog', SERVICE_NAMES)!;
    assert.equal(services.feed, undefined, 'names do not');
    const answer = (id: string, providers: string[]) => ({
      __typename: 'Service',
      name: id.toUpperCase(),
      category: { id: 'c1', name: 'Plumbing' },
      providers: providers.map((p) => ({ __typename: 'User', id: p })),
    });
    cache.keep(
      details,
      cache.ticket(details),
      [serviceRef('s1'), serviceRef('s2')],
      [answer('s1', ['p', 'q']), answer('s2', [])],
    );
    assert.deepEqual(cache.lookup(details, [serviceRef('s1'), serviceRef('s2')]), [
      answer('s1', ['p', 'q']),
      answer('s2', []),
    ]);

    catalog.changed('Service', 's1');
    assert.deepEqual(cache.lookup(details, [serviceRef('s1'), serviceRef('s2')]), [undefined, answer('s2', [])]);

    cache.keep(details, cache.ticket(details), [serviceRef('s1')], [answer('s1', ['p'])]);
    catalog.lose();
    assert.deepEqual(cache.lookup(details, [serviceRef('s1')]), [undefined], 'not while the feed is lost');
    catalog.isSynced = true;
    assert.deepEqual(
      cache.lookup(details, [serviceRef('s1'), serviceRef('s2')]),
      [undefined, undefined],
      'the pages went',
    );
    const names = cache.fetchOf(
      'catalog',
      'query($representations:[_Any!]!){_entities(representations:$representations){...on Service{name}}}',
    )!;
    assert.deepEqual(
      cache.lookup(names, [serviceRef('s1'), serviceRef('s2')]),
      [
        { __typename: 'Service', name: 'S1' },
        { __typename: 'Service', name: 'S2' },
      ],
      'the names stay',
    );
  });
});
