import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SessionFeedEvent } from '../contracts/session-events.js';
import { createLogger } from '../foundation/telemetry/logger.js';
import { SessionRevocations } from './session-revocations.js';

/** event is feed entry seq: a session of user u1 ended. */
const event = (seq: number): SessionFeedEvent => ({
  seq,
  kind: 'session',
  userId: 'u1',
  sessionId: `s${seq}`,
  tokenVersion: null,
  at: new Date().toISOString(),
});

describe('SessionRevocations.waitFor', () => {
  // A small server-sent-event feed, as the user subgraph serves it: replay (here seq 1), `synced`, then what send
  // writes.
  let server: Server;
  let stream: ServerResponse | undefined;
  let revocations: SessionRevocations;
  const send = (seq: number) => stream!.write(`id: ${seq}\ndata: ${JSON.stringify(event(seq))}\n\n`);

  before(async () => {
    let onConnect!: () => void;
    const connected = new Promise<void>((resolve) => (onConnect = resolve));
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      stream = res;
      send(1);
      res.write('event: synced\ndata: {}\n\n');
      onConnect();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    revocations = new SessionRevocations(
      `http://127.0.0.1:${port}/feed`,
      async () => 'token',
      60_000,
      createLogger({ service: 'test', level: 'silent' }),
    );
    revocations.start();
    await connected;
    for (let i = 0; i < 200 && !revocations.isSynced; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(revocations.isSynced);
  });

  after(() => {
    revocations.stop();
    server.closeAllConnections();
    server.close();
  });

  it('answers at once for a sequence already applied', async () => {
    const started = performance.now();
    assert.equal(await revocations.waitFor(1, 5_000), true);
    assert.ok(performance.now() - started < 100);
  });

  it('resolves once the event arrives, and not before', async () => {
    let reached: boolean | undefined;
    const waiting = revocations.waitFor(3, 5_000).then((r) => (reached = r));
    send(2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reached, undefined, 'seq 2 is not seq 3');
    // A later sequence (3 rolled back, say) satisfies the wait too.
    send(4);
    assert.equal(await waiting, true);
    assert.equal(revocations.stateOf('u1', 0, 's4'), 'revoked', 'the event is applied when the wait ends');
  });

  it('gives false after the timeout when the event never comes', async () => {
    const started = performance.now();
    assert.equal(await revocations.waitFor(99, 100), false);
    assert.ok(performance.now() - started >= 95);
  });

  it('gives false at stop', async () => {
    const waiting = revocations.waitFor(100, 5_000);
    revocations.stop();
    assert.equal(await waiting, false);
    assert.equal(await revocations.waitFor(101, 5_000), false, 'a stopped follower answers at once');
  });
});

describe('SessionRevocations as the entity cache reads it', () => {
  it('hears profile events apart, and takes a silent stream as an outage and follows again', async () => {
    let connections = 0;
    const server = createServer((_req, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const profile: SessionFeedEvent = { ...event(connections), kind: 'profile', sessionId: null };
      res.write(`id: ${connections}\ndata: ${JSON.stringify(profile)}\n\n`);
      res.write('event: synced\ndata: {}\n\n');
      // Then nothing, not even a heartbeat: a peer gone without closing the connection.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const revocations = new SessionRevocations(
      `http://127.0.0.1:${port}/feed`,
      async () => 'token',
      60_000,
      createLogger({ service: 'test', level: 'silent' }),
      300,
    );
    const profiles: string[] = [];
    const sessions: unknown[] = [];
    revocations.onEntityChange((typename, id) => profiles.push(`${typename}:${id}`));
    revocations.onChange((e) => sessions.push(e));
    try {
      revocations.start();
      for (let i = 0; i < 400 && revocations.outages < 1; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(revocations.outages, 1, 'the silent stream was taken as lost');
      for (let i = 0; i < 400 && connections < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(connections >= 2, 'and followed again');
      assert.deepEqual(profiles.slice(0, 1), ['User:u1']);
      assert.deepEqual(sessions, [], 'a profile event ends no session');
    } finally {
      revocations.stop();
      server.closeAllConnections();
      server.close();
    }
  });
});
