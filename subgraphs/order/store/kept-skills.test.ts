import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CatalogFeedEvent } from '../../../contracts/catalog-events.js';
import { createLogger } from '../../../foundation/telemetry/logger.js';
import { KeptSkills, MAX_KEPT_SKILLS, type SkillsOutcome } from './kept-skills.js';

const skillsEvent = (seq: number, providerId: string): CatalogFeedEvent => ({
  seq,
  kind: 'skills',
  providerId,
  serviceId: 's9',
  at: new Date().toISOString(),
});

describe("KeptSkills (order's copy of providers' skills on the catalog's feed)", () => {
  // A catalog feed whose `synced` names position 10; each test writes events to the open stream.
  let server: Server;
  let stream: ServerResponse | undefined;
  const requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  let kept: KeptSkills;
  let seq = 10;
  const outcomes: SkillsOutcome[] = [];
  /** catalog stands for catalog's internal route: it counts the reads and answers the provider's skills now. */
  const catalog = { reads: 0, skills: new Map<string, string[]>() };
  const read = (providerId: string) => async () => {
    catalog.reads++;
    return catalog.skills.get(providerId) ?? [];
  };
  const waitUntil = async (done: () => boolean) => {
    for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(done());
  };
  const publish = async (providerId: string) => {
    seq++;
    stream!.write(`id: ${seq}\ndata: ${JSON.stringify(skillsEvent(seq, providerId))}\n\n`);
    await waitUntil(() => kept.position === seq);
  };

  before(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      stream = res;
      res.write(`event: synced\ndata: {"seq":${seq}}\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kept = new KeptSkills(
      `http://127.0.0.1:${port}/internal/catalog-events`,
      { service: 'order', secret: 'the-services-secret' },
      3,
      createLogger({ service: 'test', level: 'silent' }),
      (outcome) => outcomes.push(outcome),
    );
    kept.start();
    await waitUntil(() => kept.isSynced);
  });

  after(() => {
    kept.stop();
    server.closeAllConnections();
    server.close();
  });

  beforeEach(() => {
    catalog.reads = 0;
    outcomes.length = 0;
  });

  it("follows the feed with order's own internal credentials", () => {
    assert.equal(requests[0]!.headers.authorization, 'Bearer the-services-secret');
    assert.equal(requests[0]!.headers['x-fixup-service'], 'order');
  });

  it("answers from the copy once read, when the request's gateway is no further than the copy", async () => {
    catalog.skills.set('p1', ['s1', 's2']);
    assert.deepEqual(await kept.skillsOf('p1', seq, read('p1')), ['s1', 's2']);
    assert.deepEqual(await kept.skillsOf('p1', seq, read('p1')), ['s1', 's2']);
    assert.deepEqual(await kept.skillsOf('p1', 0, read('p1')), ['s1', 's2']);
    assert.equal(catalog.reads, 1);
    assert.deepEqual(outcomes, ['read', 'kept', 'kept']);
  });

  it('asks catalog when the request names no position, or one the copy has not reached', async () => {
    assert.deepEqual(await kept.skillsOf('p1', undefined, read('p1')), ['s1', 's2']);
    catalog.skills.set('p1', ['s1']);
    // The gateway's copy already has a change this copy has not: catalog answers, and nothing is kept from it.
    assert.deepEqual(await kept.skillsOf('p1', seq + 1, read('p1')), ['s1']);
    assert.deepEqual(outcomes, ['unnamed', 'behind']);
    assert.equal(catalog.reads, 2);
  });

  it("drops a provider's skills when the feed says they changed", async () => {
    catalog.skills.set('p1', ['s1', 's3']);
    await publish('p1');
    assert.deepEqual(await kept.skillsOf('p1', seq, read('p1')), ['s1', 's3']);
    assert.deepEqual(await kept.skillsOf('p1', seq, read('p1')), ['s1', 's3']);
    assert.deepEqual(outcomes, ['read', 'kept']);
  });

  it('keeps nothing read while an event for that provider arrived: the answer may predate the change', async () => {
    catalog.skills.set('p2', ['old']);
    let release!: () => void;
    const slowRead = async () => {
      await new Promise<void>((resolve) => (release = resolve));
      catalog.reads++;
      return ['old'];
    };
    const reading = kept.skillsOf('p2', seq, slowRead);
    await publish('p2');
    release();
    assert.deepEqual(await reading, ['old'], 'the request itself is answered');
    catalog.skills.set('p2', ['new']);
    assert.deepEqual(await kept.skillsOf('p2', seq, read('p2')), ['new']);
    assert.equal(catalog.reads, 2);
  });

  it('keeps at most its bound of providers, dropping the least recently used', async () => {
    for (const p of ['a', 'b', 'c']) catalog.skills.set(p, [`s-${p}`]);
    await publish('p1'); // empties the copy of p1, leaving p2
    await kept.skillsOf('a', seq, read('a'));
    await kept.skillsOf('b', seq, read('b')); // p2, a, b: full
    await kept.skillsOf('p2', seq, read('p2')); // p2 used last: a is the least recently used
    await kept.skillsOf('c', seq, read('c')); // drops a
    assert.equal(kept.size, 3);
    catalog.reads = 0;
    await kept.skillsOf('p2', seq, read('p2'));
    await kept.skillsOf('b', seq, read('b'));
    assert.equal(catalog.reads, 0);
    await kept.skillsOf('a', seq, read('a'));
    assert.equal(catalog.reads, 1);
  });

  it('keeps no list longer than MAX_KEPT_SKILLS: each entry is bounded', async () => {
    const many = Array.from({ length: MAX_KEPT_SKILLS + 1 }, (_, i) => `s${i}`);
    catalog.skills.set('many', many);
    assert.deepEqual(await kept.skillsOf('many', seq, read('many')), many);
    assert.deepEqual(await kept.skillsOf('many', seq, read('many')), many);
    assert.equal(catalog.reads, 2);
  });

  it('drops the whole copy after an outage, and asks catalog until the feed is in sync again', async () => {
    assert.ok(kept.size > 0);
    const outages = kept.outages;
    stream!.destroy();
    await waitUntil(() => kept.outages === outages + 1);
    assert.deepEqual(await kept.skillsOf('b', 0, read('b')), ['s-b']);
    await waitUntil(() => kept.isSynced);
    assert.equal(kept.size, 0, 'nothing kept from before the outage, nor read while out of sync');
    assert.equal(new URL(requests[1]!.url, 'http://x').searchParams.get('after'), String(seq), 'resumed where it was');
    outcomes.length = 0;
    await kept.skillsOf('b', seq, read('b'));
    await kept.skillsOf('b', seq, read('b'));
    assert.deepEqual(outcomes, ['read', 'kept']);
  });
});
