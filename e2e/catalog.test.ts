import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metricSample, startTestStack, type GraphQLResponse, type Session, type TestStack } from './harness.js';

const CREATE_CATEGORY = `mutation CreateCategory($name: String!) { createCategory(name: $name) { id name } }`;
const CREATE_SERVICE = `mutation CreateService($input: CreateServiceInput!) { createService(input: $input) { id name description category { id name } } }`;
const ADD_SKILL = `mutation AddSkill($serviceId: ID!) { addSkill(serviceId: $serviceId) { id skills { id name } } }`;
const REMOVE_SKILL = `mutation RemoveSkill($serviceId: ID!) { removeSkill(serviceId: $serviceId) { id skills { id name } } }`;
const SERVICES = `query Services($categoryId: ID, $search: String) { services(categoryId: $categoryId, search: $search) { id name description category { id name } providers { id displayName } } }`;
const ME = `query Me { me { id email displayName roles emailVerified avatarUrl createdAt skills { id name } } }`;

const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

describe('catalog', () => {
  let t: TestStack;
  let admin: Session;
  let customer: Session;
  let provider: Session;

  before(async () => {
    t = await startTestStack();
    admin = await t.login(t.admin.email, t.admin.password);
    customer = await t.register('CUSTOMER');
    provider = await t.register('PROVIDER', 'Priya');
  });
  after(() => t?.stop());

  it('admins create categories and services, names unique in their scope, each audited', async () => {
    const name = `Gardening ${Date.now()}`;
    const category = (await t.gql(CREATE_CATEGORY, { name }, { token: admin.accessToken })).data!.createCategory;
    assert.equal(category.name, name);
    assert.equal(
      code(await t.gql(CREATE_CATEGORY, { name: name.toUpperCase() }, { token: admin.accessToken })),
      'CONFLICT',
    );
    const input = { categoryId: category.id, name: 'Hedge trimming', description: 'Hedges cut and shaped.' };
    const service = (await t.gql(CREATE_SERVICE, { input }, { token: admin.accessToken })).data!.createService;
    assert.deepEqual(service.category, category);
    assert.equal(
      code(await t.gql(CREATE_SERVICE, { input: { ...input, name: 'hedge TRIMMING' } }, { token: admin.accessToken })),
      'CONFLICT',
    );
    const events = await t.sql(
      'catalog',
      `SELECT payload->>'action' AS action, payload->>'targetId' AS target, payload->>'actorId' AS actor FROM outbox ORDER BY seq`,
    );
    assert.deepEqual(
      events.filter((e) => e.target === category.id || e.target === service.id),
      [
        { action: 'catalog.category_created', target: category.id, actor: admin.id },
        { action: 'catalog.service_created', target: service.id, actor: admin.id },
      ],
    );
  });

  it('refuses bad input with the field and unknown categories with NOT_FOUND, writing nothing', async () => {
    const before = (await t.sql('catalog', `SELECT count(*)::int AS n FROM services`))[0].n;
    const [category] = await t.sql('catalog', `SELECT id FROM categories LIMIT 1`);
    for (const [input, expected, field] of [
      [{ categoryId: category.id, name: '', description: 'x' }, 'BAD_USER_INPUT', 'input.name'],
      [{ categoryId: category.id, name: 'x'.repeat(101), description: 'x' }, 'BAD_USER_INPUT', 'input.name'],
      [{ categoryId: category.id, name: 'Fine', description: ' ' }, 'BAD_USER_INPUT', 'input.description'],
      [{ categoryId: 'nope', name: 'Fine', description: 'Fine' }, 'BAD_USER_INPUT', 'input.categoryId'],
      [{ categoryId: randomUUID(), name: 'Fine', description: 'Fine' }, 'NOT_FOUND', undefined],
    ] as const) {
      const res = await t.gql(CREATE_SERVICE, { input }, { token: admin.accessToken });
      assert.equal(code(res), expected, JSON.stringify(input));
      assert.equal(res.errors![0]!.extensions!.field, field);
    }
    assert.equal(code(await t.gql(CREATE_CATEGORY, { name: '   ' }, { token: admin.accessToken })), 'BAD_USER_INPUT');
    assert.equal((await t.sql('catalog', `SELECT count(*)::int AS n FROM services`))[0].n, before);
  });

  it('providers add and remove their skills; services list their providers; me shows skills', async () => {
    const [leak] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    const added = await t.gql(ADD_SKILL, { serviceId: leak.id }, { token: provider.accessToken });
    assert.deepEqual(added.data?.addSkill, { id: provider.id, skills: [{ id: leak.id, name: 'Leak repair' }] });
    assert.equal(code(await t.gql(ADD_SKILL, { serviceId: leak.id }, { token: provider.accessToken })), 'CONFLICT');
    assert.equal(
      code(await t.gql(ADD_SKILL, { serviceId: randomUUID() }, { token: provider.accessToken })),
      'NOT_FOUND',
    );
    const listed = await t.gql(SERVICES, { search: 'leak' });
    assert.deepEqual(listed.data?.services[0].providers, [{ id: provider.id, displayName: 'Priya' }]);
    const me = await t.gql(ME, undefined, { token: provider.accessToken });
    assert.deepEqual(me.data?.me.skills, [{ id: leak.id, name: 'Leak repair' }]);
    const removed = await t.gql(REMOVE_SKILL, { serviceId: leak.id }, { token: provider.accessToken });
    assert.deepEqual(removed.data?.removeSkill.skills, []);
    assert.equal(code(await t.gql(REMOVE_SKILL, { serviceId: leak.id }, { token: provider.accessToken })), 'CONFLICT');
  });

  it("the gateway keeps a provider's skills, and a change shows on the provider's next request", async () => {
    const kept = () =>
      metricSample(t, 'gateway', 'fixup_gateway_entity_cache_lookups_total', { subgraph: 'catalog', result: 'hit' });
    const skillsSeen = async () => {
      const res = await t.gql(ME, undefined, { token: provider.accessToken });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return (res.data!.me.skills as { name: string }[]).map((s) => s.name);
    };
    const [leak, other] = await t.sql(
      'catalog',
      `SELECT id, name FROM services ORDER BY name = 'Leak repair' DESC, name LIMIT 2`,
    );
    await t.gql(ADD_SKILL, { serviceId: leak.id }, { token: provider.accessToken });
    assert.deepEqual(await skillsSeen(), ['Leak repair']);
    const hits = await kept();
    assert.deepEqual(await skillsSeen(), ['Leak repair']);
    assert.ok((await kept()) > hits, "the skills came from the gateway's cache");

    // Each mutation answers once this gateway's copy of the catalog's feed has its event: the next request sees it.
    await t.gql(ADD_SKILL, { serviceId: other.id }, { token: provider.accessToken });
    assert.deepEqual((await skillsSeen()).sort(), [other.name, 'Leak repair'].sort());
    await t.gql(REMOVE_SKILL, { serviceId: leak.id }, { token: provider.accessToken });
    assert.deepEqual(await skillsSeen(), [other.name]);
    await t.gql(REMOVE_SKILL, { serviceId: other.id }, { token: provider.accessToken });
    assert.deepEqual(await skillsSeen(), []);
    const again = await kept();
    assert.deepEqual(await skillsSeen(), []);
    assert.ok((await kept()) > again, 'no skills is kept too');
  });

  it("the gateway keeps a service's default page of providers, and a provider's new skill shows in it at once", async () => {
    const [service] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    const order = await t.gql(
      `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
      { input: { serviceId: service.id, description: 'A dripping tap in the kitchen' } },
      { token: customer.accessToken },
    );
    assert.equal(order.errors, undefined, JSON.stringify(order.errors));
    const providersSeen = async () => {
      const res = await t.gql(
        `query { me { orders(first: 1) { edges { node { service { id name providers { id } } } } } } }`,
        undefined,
        { token: customer.accessToken },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const node = res.data!.me.orders.edges[0].node;
      assert.equal(node.service.name, 'Leak repair');
      return (node.service.providers as { id: string }[]).map((p) => p.id);
    };
    // An ad-hoc document's first request runs on Apollo's own executor, which keeps nothing: the second one keeps.
    await providersSeen();
    const before = await providersSeen();
    assert.ok(!before.includes(provider.id));
    const kept = () =>
      metricSample(t, 'gateway', 'fixup_gateway_entity_cache_lookups_total', { subgraph: 'catalog', result: 'hit' });
    const hits = await kept();
    assert.deepEqual(await providersSeen(), before);
    assert.ok((await kept()) > hits, "the service's providers came from the gateway's cache");

    await t.gql(ADD_SKILL, { serviceId: service.id }, { token: provider.accessToken });
    assert.ok((await providersSeen()).includes(provider.id), 'the next request sees the new provider');
    await t.gql(REMOVE_SKILL, { serviceId: service.id }, { token: provider.accessToken });
    assert.deepEqual(await providersSeen(), before);
  });

  it("a service's providers come a page at a time, in the order they added it, pages of several sizes in one request", async () => {
    const [service] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    const [other] = await t.sql('catalog', `SELECT id FROM services WHERE name <> 'Leak repair' ORDER BY name LIMIT 1`);
    const providers = Array.from({ length: 25 }, () => randomUUID());
    await t.sql(
      'catalog',
      `INSERT INTO skills (provider_id, service_id, created_at)
       SELECT p, s, now() - make_interval(secs => 100 - i)
         FROM unnest($1::uuid[]) WITH ORDINALITY AS x(p, i), unnest(ARRAY[$2::uuid, $3::uuid]) AS y(s)`,
      [providers, service.id, other.id],
    );
    const res = await t.gql(
      `{ services { id one: providers(first: 1) { id } three: providers(first: 3) { id } all: providers { id } } }`,
    );
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const byId = new Map(
      (
        res.data?.services as { id: string; one: { id: string }[]; three: { id: string }[]; all: { id: string }[] }[]
      ).map((s) => [s.id, s]),
    );
    for (const id of [service.id, other.id]) {
      const pages = byId.get(id)!;
      assert.deepEqual(
        pages.one.map((p) => p.id),
        providers.slice(0, 1),
      );
      assert.deepEqual(
        pages.three.map((p) => p.id),
        providers.slice(0, 3),
      );
      assert.deepEqual(
        pages.all.map((p) => p.id),
        providers.slice(0, 20),
        'the default page is 20',
      );
    }
    await t.sql('catalog', `DELETE FROM skills WHERE provider_id = ANY($1::uuid[])`, [providers]);
  });

  it('who may do what in catalog', async () => {
    const [leak] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    const [category] = await t.sql('catalog', `SELECT id FROM categories LIMIT 1`);
    const input = { categoryId: category.id, name: `Never ${Date.now()}`, description: 'never made' };
    for (const [query, variables, token, expected] of [
      [CREATE_CATEGORY, { name: `Never ${Date.now()}` }, undefined, 'UNAUTHENTICATED'],
      [CREATE_CATEGORY, { name: `Never ${Date.now()}` }, customer.accessToken, 'FORBIDDEN'],
      [CREATE_CATEGORY, { name: `Never ${Date.now()}` }, provider.accessToken, 'FORBIDDEN'],
      [CREATE_SERVICE, { input }, undefined, 'UNAUTHENTICATED'],
      [CREATE_SERVICE, { input }, provider.accessToken, 'FORBIDDEN'],
      [ADD_SKILL, { serviceId: leak.id }, undefined, 'UNAUTHENTICATED'],
      [ADD_SKILL, { serviceId: leak.id }, customer.accessToken, 'FORBIDDEN'],
      [ADD_SKILL, { serviceId: leak.id }, admin.accessToken, 'FORBIDDEN'],
      [REMOVE_SKILL, { serviceId: leak.id }, customer.accessToken, 'FORBIDDEN'],
      [ME, undefined, undefined, 'UNAUTHENTICATED'],
    ] as const) {
      const res = await t.gql(query, variables, { token });
      assert.equal(code(res), expected, `${query.slice(0, 30)} as ${token ? 'someone' : 'anyone'}`);
    }
    assert.equal((await t.gql(SERVICES, {})).errors, undefined, 'services: anyone');
  });

  it("the internal routes answer only calls with the services' own credentials", async () => {
    const catalog = t.stack.services.find((s) => s.name === 'catalog')!.url;
    const res = await fetch(new URL(`/internal/provider-skills?providerIds=${provider.id}`, catalog));
    assert.equal(res.status, 401);
    // The change feed is served to gateways (their token) and to subgraphs (their credentials: order keeps skills).
    const feed = new URL('/internal/catalog-events', catalog);
    assert.equal((await fetch(feed)).status, 401);
    assert.equal((await fetch(feed, { headers: { authorization: 'Bearer not-the-secret' } })).status, 401);
    const secret = readFileSync(join(t.dataDir, 'secrets', 'internal-call.secret'), 'utf8').trim();
    const abort = new AbortController();
    const followed = await fetch(feed, { headers: { authorization: `Bearer ${secret}` }, signal: abort.signal });
    assert.equal(followed.status, 200);
    assert.match(followed.headers.get('content-type') ?? '', /^text\/event-stream/);
    abort.abort();
  });
});
