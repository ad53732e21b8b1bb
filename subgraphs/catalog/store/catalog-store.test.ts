import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { catalogMigrations } from '../../../migrations/catalog/index.js';
import { CatalogService } from '../business/catalog.js';
import { DEMO_CATALOG } from '../business/demo-catalog.js';
import { PostgresCatalogStore } from './catalog-store.js';
import { CategoryRow, ServiceRow } from './entities.js';

describe('catalog store', () => {
  let db: TestDatabase;
  let catalog: CatalogService;

  before(async () => {
    db = await createTestDatabase('catalog', [CategoryRow, ServiceRow], catalogMigrations);
    catalog = new CatalogService(new PostgresCatalogStore(db.dataSource), { publish: async () => {} });
    await catalog.seed(DEMO_CATALOG);
  });
  after(() => db.drop());

  it('seeds the demo catalog once, however often it runs', async () => {
    await catalog.seed(DEMO_CATALOG);
    const categories = await catalog.categories();
    assert.deepEqual(
      categories.map((c) => c.name),
      DEMO_CATALOG.map((c) => c.category).sort(),
    );
    const services = await catalog.services({});
    assert.equal(
      services.length,
      DEMO_CATALOG.reduce((n, c) => n + c.services.length, 0),
    );
  });

  it('keeps services and categories once read, and reads only the ones it does not have', async () => {
    const services = await catalog.services({});
    const store = new PostgresCatalogStore(db.dataSource, 100);
    const ids = services.slice(0, 3).map((s) => s.id);
    const before = db.statements.length;
    const first = await store.servicesByIds(ids);
    assert.equal(db.statements.length, before + 1);
    assert.deepEqual(new Set(first.map((s) => s.name)), new Set(services.slice(0, 3).map((s) => s.name)));
    assert.deepEqual(await store.servicesByIds([...ids].reverse()), [...first].reverse());
    assert.equal(db.statements.length, before + 1, 'a second read of the same services sends nothing');
    const more = await store.servicesByIds([ids[0]!, services[3]!.id]);
    assert.equal(db.statements.length, before + 2);
    assert.deepEqual(more.map((s) => s.id).sort(), [ids[0]!, services[3]!.id].sort());
    // Each read gets its own copies: what one request adds to them, no other sees.
    (more[0] as { __typename?: string }).__typename = 'Service';
    const again = await store.servicesByIds([ids[0]!]);
    assert.equal((again[0] as { __typename?: string }).__typename, undefined);
    const categoryIds = [...new Set(services.map((s) => s.categoryId))];
    await store.categoriesByIds(categoryIds);
    assert.equal((await store.categoriesByIds(categoryIds)).length, categoryIds.length);
    assert.equal(db.statements.length, before + 3);
    // Without keeping, every read is a statement.
    const reading = new PostgresCatalogStore(db.dataSource, 0);
    await reading.servicesByIds(ids);
    await reading.servicesByIds(ids);
    assert.equal(db.statements.length, before + 5);
  });

  it('searches name and description ignoring case, and treats LIKE wildcards literally', async () => {
    const byName = await catalog.services({ search: 'LEAK' });
    assert.deepEqual(
      byName.map((s) => s.name),
      ['Leak repair'],
    );
    const byDescription = await catalog.services({ search: 'flat-pack' });
    assert.deepEqual(
      byDescription.map((s) => s.name),
      ['Furniture assembly'],
    );
    assert.deepEqual(await catalog.services({ search: '%' }), []);
  });

  it('lists the services of a category and refuses an unknown category', async () => {
    const plumbing = (await catalog.categories()).find((c) => c.name === 'Plumbing')!;
    const services = await catalog.services({ categoryId: plumbing.id });
    assert.deepEqual(
      services.map((s) => s.name),
      ['Boiler service', 'Leak repair'],
    );
    await assert.rejects(catalog.services({ categoryId: '00000000-0000-4000-8000-000000000000' }), {
      code: 'NOT_FOUND',
    });
  });

  it('keeps category names unique whatever their case', async () => {
    await assert.rejects(
      db.dataSource.query(`INSERT INTO categories (id, name) VALUES (gen_random_uuid(), 'plumbing')`),
      /categories_name_key/,
    );
  });

  it('uses the trigram index for search', async () => {
    await db.dataSource.query('SET enable_seqscan = off');
    const plan: { 'QUERY PLAN': string }[] = await db.dataSource.query(
      `EXPLAIN SELECT * FROM services WHERE lower(name || ' ' || description) LIKE '%leak%'`,
    );
    await db.dataSource.query('RESET enable_seqscan');
    assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /services_search_idx/);
  });

  it("gives providers' skills in their services' order, as PostgreSQL sorts names, with one statement once ranked", async () => {
    const categories = await catalog.categories();
    const category = categories[0]!;
    const services = await catalog.services({});
    const providers = Array.from({ length: 3 }, () => randomUUID());
    // Names PostgreSQL's collation orders, whatever it is: case, accents, digits, and two services of one name.
    const names = ['zeta', 'Zeta', 'éclair', 'eclair', '10 things', '9 things', 'Same', 'Same'];
    const added: string[] = [];
    for (const [i, name] of names.entries()) {
      const id = randomUUID();
      await db.dataSource.query(`INSERT INTO services (id, category_id, name, description) VALUES ($1, $2, $3, 'x')`, [
        id,
        categories[i % 2]!.id,
        name,
      ]);
      added.push(id);
    }
    const skills = (p: number) => [...added, ...services.map((x) => x.id)].filter((_, i) => i % 3 !== p);
    for (const [p, provider] of providers.entries())
      for (const serviceId of skills(p).reverse())
        await db.dataSource.query(`INSERT INTO skills (provider_id, service_id) VALUES ($1, $2)`, [
          provider,
          serviceId,
        ]);
    const inSql = await new PostgresCatalogStore(db.dataSource, 0).skillsOfProviders(providers);
    const store = new PostgresCatalogStore(db.dataSource);
    const byProvider = (list: { providerId: string; serviceId: string }[]) =>
      providers.map((p) => list.filter((k) => k.providerId === p).map((k) => k.serviceId));
    assert.deepEqual(byProvider(await store.skillsOfProviders(providers)), byProvider(inSql));
    const before = db.statements.length;
    assert.deepEqual(byProvider(await store.skillsOfProviders(providers)), byProvider(inSql));
    assert.equal(db.statements.length, before + 1, 'once ranked, one statement, no join');
    assert.doesNotMatch(db.statements.at(-1)!, /JOIN/);
    // A service made after the ranks were read (by this instance or another) is ranked on first sight.
    const late = randomUUID();
    await db.dataSource.query(`INSERT INTO services (id, category_id, name, description) VALUES ($1, $2, 'Aaa', 'x')`, [
      late,
      category.id,
    ]);
    await db.dataSource.query(`INSERT INTO skills (provider_id, service_id) VALUES ($1, $2)`, [providers[0], late]);
    const withLate = await store.skillsOfProviders(providers);
    assert.deepEqual(
      byProvider(withLate),
      byProvider(await new PostgresCatalogStore(db.dataSource, 0).skillsOfProviders(providers)),
    );
    // With more services than it may rank, it sorts in SQL, as before.
    const few = new PostgresCatalogStore(db.dataSource, 3);
    await few.skillsOfProviders(providers);
    const sent = db.statements.length;
    assert.deepEqual(byProvider(await few.skillsOfProviders(providers)), byProvider(withLate));
    assert.equal(db.statements.length, sent + 1);
    assert.match(db.statements.at(-1)!, /JOIN services/);
    await db.dataSource.query(`DELETE FROM skills WHERE provider_id = ANY($1::uuid[])`, [providers]);
  });

  it("gives each service's first providers by when they added the skill, however popular the service", async () => {
    const [popular, rare] = (await catalog.services({})).slice(0, 2).map((s) => s.id);
    const providers = Array.from({ length: 40 }, () => randomUUID());
    // 40 providers on the popular service, 3 on the rare one, added one second apart (some at the same second).
    await db.dataSource.query(
      `INSERT INTO skills (provider_id, service_id, created_at)
       SELECT p, $2::uuid, now() - make_interval(secs => 100 - i / 2) FROM unnest($1::uuid[]) WITH ORDINALITY AS x(p, i)
       UNION ALL
       SELECT p, $3::uuid, now() - make_interval(secs => 100 - i) FROM unnest($1::uuid[]) WITH ORDINALITY AS x(p, i) WHERE i <= 3`,
      [providers, popular, rare],
    );
    const store = new PostgresCatalogStore(db.dataSource);
    const plain = await store.skillsOfServices([popular!, rare!]);
    const firsts = await store.skillsOfServices([popular!, rare!, popular!], 5);
    const expected = [popular, rare].flatMap((service) => plain.filter((k) => k.serviceId === service).slice(0, 5));
    const order = (list: { providerId: string; serviceId: string }[]) =>
      list.map((k) => `${k.serviceId}/${k.providerId}`).sort();
    assert.deepEqual(order(firsts), order(expected));
    assert.equal(firsts.filter((k) => k.serviceId === popular).length, 5);
    assert.equal(firsts.filter((k) => k.serviceId === rare).length, 3);
    // Oldest skill first, across services, as without the bound.
    const rank = new Map(plain.map((k, i) => [`${k.serviceId}/${k.providerId}`, i]));
    const ranks = firsts.map((k) => rank.get(`${k.serviceId}/${k.providerId}`)!);
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
    );
  });
});
