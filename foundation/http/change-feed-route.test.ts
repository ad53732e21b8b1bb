import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gatewayOnly, type GatewayTrust } from '../auth/identity.js';
import type { ChangeFeed, FeedSubscriber } from '../postgres/change-feed.js';
import { createLogger } from '../telemetry/logger.js';
import { changeFeedRoute } from './change-feed-route.js';
import { requestScope } from './server.js';

interface Event {
  seq: number;
}

/** FakeFeed replays the sequences after `after` from 1 to `last`, then sends what the test sends. */
class FakeFeed implements ChangeFeed<Event> {
  readonly name = 'test feed';
  listening = true;
  last = 2;
  endDuringReplay = false;
  readonly subscribers = new Set<FeedSubscriber<Event>>();
  readonly afters: (number | null)[] = [];

  async subscribe(subscriber: FeedSubscriber<Event>, after: number | null): Promise<number | null> {
    this.afters.push(after);
    for (let seq = (after ?? 0) + 1; seq <= this.last; seq++) subscriber.send({ seq });
    if (this.endDuringReplay) {
      subscriber.end();
      return null;
    }
    this.subscribers.add(subscriber);
    return Math.max(after ?? 0, this.last);
  }

  unsubscribe(subscriber: FeedSubscriber<Event>): void {
    this.subscribers.delete(subscriber);
  }
}

/** trust lets through the requests that carry the gateway's (here made-up) token. */
const trust = {
  callerOf: async (req: IncomingMessage, requestId: string) =>
    req.headers['x-fixup-gateway-token'] === 'gateway' ? { viewer: null, ip: null, userAgent: null, requestId } : null,
} as unknown as GatewayTrust;

describe('changeFeedRoute', () => {
  const feed = new FakeFeed();
  let server: http.Server;
  let base: string;

  before(async () => {
    const route = changeFeedRoute(feed, (handle) => gatewayOnly(trust, handle), 50);
    const logger = createLogger({ service: 'test', level: 'silent' });
    server = http.createServer((req, res) => void route(req, res, requestScope('r1', logger)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  /** follow opens a stream and gathers its text until `until` holds or the stream ends. */
  function follow(
    path: string,
    headers: Record<string, string>,
    until: (text: string) => boolean,
  ): Promise<{ status: number; text: string; ended: boolean; close(): void }> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}${path}`, { headers }, (res) => {
        let text = '';
        const done = (ended: boolean) => resolve({ status: res.statusCode!, text, ended, close: () => req.destroy() });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (until(text)) done(false);
        });
        res.on('end', () => done(true));
      });
      req.on('error', reject);
    });
  }

  it('answers only the gateway', async () => {
    const { status } = await follow('/feed', {}, () => false);
    assert.equal(status, 401);
  });

  it('answers 503 while the feed does not hear every instance', async () => {
    feed.listening = false;
    try {
      const { status, text } = await follow('/feed', { 'x-fixup-gateway-token': 'gateway' }, () => false);
      assert.equal(status, 503);
      assert.match(text, /the test feed is not listening/);
    } finally {
      feed.listening = true;
    }
  });

  it('replays after the last event named, marks the end of the replay, beats, and sends what comes', async () => {
    const gateway = { 'x-fixup-gateway-token': 'gateway' };
    const following = follow('/feed?after=1', gateway, (t) => t.includes(': ping') && t.includes('id: 3'));
    for (let i = 0; i < 100 && feed.subscribers.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    for (const subscriber of feed.subscribers) subscriber.send({ seq: 3 });
    const stream = await following;
    assert.equal(stream.status, 200);
    assert.ok(
      stream.text.startsWith('id: 2\ndata: {"seq":2}\n\nevent: synced\ndata: {"seq":2}\n\nid: 3\n'),
      stream.text,
    );
    assert.equal(feed.subscribers.size, 1);
    stream.close();
    for (let i = 0; i < 100 && feed.subscribers.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(feed.subscribers.size, 0, 'a closed stream is unsubscribed');

    const resumed = await follow('/feed?after=0', { ...gateway, 'last-event-id': '2' }, (t) => t.includes('synced'));
    resumed.close();
    const fresh = await follow('/feed?after=nope', gateway, (t) => t.includes('synced'));
    fresh.close();
    assert.deepEqual(feed.afters.slice(-2), [2, null], 'Last-Event-ID wins over ?after=; junk is a new follower');
  });

  it('ends a stream the feed ended during its replay, without `synced`', async () => {
    feed.endDuringReplay = true;
    try {
      const stream = await follow('/feed', { 'x-fixup-gateway-token': 'gateway' }, () => false);
      assert.equal(stream.ended, true);
      assert.equal(stream.text, 'id: 1\ndata: {"seq":1}\n\nid: 2\ndata: {"seq":2}\n\n');
    } finally {
      feed.endDuringReplay = false;
    }
  });
});
