import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CatalogFeedEvent } from '../contracts/catalog-events.js';
import { createLogger } from '../foundation/telemetry/logger.js';
import { catalogFeed, type EntityChangeFeed } from './entity-feeds.js';

const skills = (seq: number, providerId: string): CatalogFeedEvent => ({
  seq,
  kind: 'skills',
  providerId,
  serviceId: 's1',
  at: new Date().toISOString(),
});

describe('FeedFollower (the catalog feed)', () => {
  // A feed with no replay for a new follower, as the catalog serves it: `synced` names its position (7).
  let server: Server;
  let stream: ServerResponse | undefined;
  const urls: string[] = [];
  const tokens: unknown[] = [];
  let feed: EntityChangeFeed<CatalogFeedEvent>;
  const changed: string[] = [];
  const waitUntil = async (done: () => boolean) => {
    for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(done());
  };

  before(async () => {
    server = createServer((req, res) => {
      urls.push(req.url ?? '');
      tokens.push(req.headers['x-fixup-gateway-token']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      stream = res;
      res.write('event: synced\ndata: {"seq":7}\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    feed = catalogFeed(
      `http://127.0.0.1:${port}/feed`,
      async () => 'token',
      createLogger({ service: 'test', level: 'silent' }),
    );
    feed.onEntityChange((typename, id) => changed.push(`${typename}:${id}`));
    feed.start();
    await waitUntil(() => feed.isSynced);
  });

  after(() => {
    feed.stop();
    server.closeAllConnections();
    server.close();
  });

  it("knows the feed's position from `synced` before any event: a wait for it ends at once", async () => {
    const started = performance.now();
    assert.equal(await feed.waitFor(7, 5_000), true);
    assert.ok(performance.now() - started < 100);
    assert.equal(await feed.waitFor(8, 100), false, 'a later sequence is waited for');
  });

  it("tells the entity cache of a provider's changed skills, and ends the wait for its sequence", async () => {
    const waiting = feed.waitFor(8, 5_000);
    stream!.write(`id: 8\ndata: ${JSON.stringify(skills(8, 'p1'))}\n\n`);
    assert.equal(await waiting, true);
    assert.deepEqual(changed, ['User:p1', 'Service:s1']);
  });

  it('follows again from the last position after a lost stream, so nothing committed meanwhile is missed', async () => {
    const outages = feed.outages;
    stream!.destroy();
    await waitUntil(() => urls.length === 2 && feed.isSynced);
    assert.equal(feed.outages, outages + 1);
    assert.equal(new URL(urls[1]!, 'http://x').searchParams.get('after'), '8');
    assert.equal(new URL(urls[0]!, 'http://x').searchParams.get('after'), null, 'a new follower names none');
    assert.deepEqual(tokens, ['token', 'token'], "each stream is asked for with the gateway's token");
  });

  it('takes an event its contract does not allow as an outage, and still ends the wait for its position', async () => {
    const outages = feed.outages;
    const waiting = feed.waitFor(9, 5_000);
    stream!.write(`id: 9\ndata: ${JSON.stringify({ ...skills(9, 'p2'), kind: 'prices' })}\n\n`);
    assert.equal(await waiting, true);
    assert.equal(feed.outages, outages + 1, 'what the gateway kept on the feed may be stale');
    assert.ok(!changed.includes('User:p2'));
  });
});
