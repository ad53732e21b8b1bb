import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { adminUrlOf, createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { checkFeedTableRights } from '../../../foundation/testkit/feed-tables.js';
import { createLogger } from '../../../foundation/telemetry/logger.js';
import { CATALOG_SEQ_HEADER, type CatalogFeedEvent } from '../../../contracts/catalog-events.js';
import { catalogMigrations } from '../../../migrations/catalog/index.js';
import { CatalogService } from '../business/catalog.js';
import { DEMO_CATALOG } from '../business/demo-catalog.js';
import { PostgresCatalogFeed } from './catalog-feed.js';
import { PostgresCatalogStore } from './catalog-store.js';
import { CategoryRow, ServiceRow } from './entities.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** provider is a signed-in provider, as the API layer hands it to the business layer. */
const provider = () => ({ id: randomUUID(), roles: ['PROVIDER' as const], sessionId: null });

// The feed's behaviour (replay, listener loss, publishing) is PostgresChangeFeed's, tested in
// foundation/postgres/change-feed.test.ts; this is what the catalog writes to it, and when.
describe('the catalog feed (real PostgreSQL)', () => {
  let db: TestDatabase;
  let feed: PostgresCatalogFeed;
  let catalog: CatalogService;
  let serviceIds: string[];
  const received: CatalogFeedEvent[] = [];

  /** eventsOf reads the feed's table for a provider. */
  const eventsOf = async (providerId: string): Promise<{ seq: string; kind: string }[]> =>
    db.dataSource.query(`SELECT seq, kind FROM catalog_events WHERE provider_id = $1 ORDER BY seq`, [providerId]);

  before(async () => {
    db = await createTestDatabase('catalogfeed', [CategoryRow, ServiceRow], catalogMigrations);
    feed = new PostgresCatalogFeed(
      db.dataSource,
      db.url,
      7 * 24 * 3600,
      createLogger({ service: 'test', level: 'silent' }),
    );
    await feed.start();
    catalog = new CatalogService(new PostgresCatalogStore(db.dataSource), feed);
    await catalog.seed(DEMO_CATALOG);
    serviceIds = (await catalog.services({})).map((s) => s.id);
    await feed.subscribe({ send: (e) => received.push(e), end: () => {} }, null);
  });
  after(async () => {
    await feed?.close();
    await db?.drop();
  });

  it('writes one skills event per change of skills, none when nothing changed, and publishes it before answering', async () => {
    const who = provider();
    assert.deepEqual(feed.answerHeaders('mutation'), {}, 'no event yet: no sequence to name');
    await catalog.addSkill(serviceIds[0]!, who);
    let events = await eventsOf(who.id);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['skills'],
    );
    // Published by the time addSkill returned: no waiting for the notification.
    assert.deepEqual(
      received.map(({ seq, kind, providerId, serviceId }) => ({ seq, kind, providerId, serviceId })),
      [{ seq: Number(events[0]!.seq), kind: 'skills', providerId: who.id, serviceId: serviceIds[0] }],
    );
    assert.ok(!Number.isNaN(Date.parse(received[0]!.at)));
    const named = Number(feed.answerHeaders('mutation')[CATALOG_SEQ_HEADER]);
    assert.ok(named >= Number(events[0]!.seq), "a mutation's answer names a sequence at or past its event");
    assert.deepEqual(feed.answerHeaders('query'), {});

    await assert.rejects(catalog.addSkill(serviceIds[0]!, who), { code: 'CONFLICT' });
    assert.equal((await eventsOf(who.id)).length, 1, 'a skill already held writes nothing');

    await catalog.removeSkill(serviceIds[0]!, who);
    events = await eventsOf(who.id);
    assert.equal(events.length, 2);
    assert.equal(received.at(-1)!.seq, Number(events[1]!.seq));
    await assert.rejects(catalog.removeSkill(serviceIds[0]!, who), { code: 'CONFLICT' });
    assert.equal((await eventsOf(who.id)).length, 2, 'a skill not held writes nothing');
    assert.equal(received.length, 2);
  });

  it("delivers another instance's events through LISTEN/NOTIFY", async () => {
    const who = provider();
    const before = received.length;
    // Another catalog instance: its own store, its publish reaching only its own followers.
    const other = new CatalogService(new PostgresCatalogStore(db.dataSource), { publish: async () => {} });
    await other.addSkill(serviceIds[1]!, who);
    for (let i = 0; i < 100 && received.length === before; i++) await sleep(20);
    assert.deepEqual(
      received.slice(before).map((e) => e.providerId),
      [who.id],
    );
  });

  it('changes no skill when its event cannot be written', async () => {
    const who = provider();
    const admin = new pg.Client({ connectionString: adminUrlOf(db) });
    await admin.connect();
    try {
      // A constraint that refuses this provider's events, as any failure of the event's insert would.
      await admin.query(
        `ALTER TABLE catalog_events ADD CONSTRAINT refuse_test CHECK (provider_id <> '${who.id}'::uuid) NOT VALID`,
      );
      try {
        await assert.rejects(catalog.addSkill(serviceIds[2]!, who), /refuse_test/);
      } finally {
        await admin.query(`ALTER TABLE catalog_events DROP CONSTRAINT refuse_test`);
      }
    } finally {
      await admin.end();
    }
    assert.deepEqual(await catalog.skillsOfProviders([who.id]), [], 'the skill rolled back with its event');
    assert.deepEqual(await eventsOf(who.id), []);
  });

  it('writes the event of any write to skills, by hand too, in its statement', async () => {
    const [one, other] = [provider(), provider()];
    await db.dataSource.query(`INSERT INTO skills (provider_id, service_id) VALUES ($1, $2), ($3, $2)`, [
      one.id,
      serviceIds[3],
      other.id,
    ]);
    await db.dataSource.query(`UPDATE skills SET service_id = $1 WHERE provider_id = $2`, [serviceIds[4], one.id]);
    await db.dataSource.query(`DELETE FROM skills WHERE provider_id = $1`, [other.id]);
    const events: { provider_id: string; service_id: string }[] = await db.dataSource.query(
      `SELECT provider_id, service_id FROM catalog_events WHERE provider_id = ANY($1::uuid[]) ORDER BY seq`,
      [[one.id, other.id]],
    );
    assert.deepEqual(
      events.map((e) => [e.provider_id === one.id ? 'one' : 'other', serviceIds.indexOf(e.service_id)]),
      [
        ['one', 3],
        ['other', 3],
        ['one', 3],
        ['one', 4],
        ['other', 3],
      ],
      'an insert, an update (the old row and the new) and a delete, each an event of its provider and service',
    );
  });

  it('lets the runtime role add and read events, never change or remove them but through the pruning function', () =>
    checkFeedTableRights(db, 'catalog_events', 'kind', () => feed.prune()));
});
