import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../telemetry/logger.js';
import { Metrics } from '../telemetry/metrics.js';
import {
  answerUnread,
  BodyTooLargeError,
  connectionBound,
  HttpService,
  openFileLimit,
  readBody,
  sendJson,
} from './server.js';

describe('readBody and answerUnread', () => {
  let server: Server;
  let port: number;
  const outcomes: string[] = [];
  // settled says, for each refused request, whether the rest of its body was read to its end and dropped, rather than
  // left unread on an open connection.
  const settled: Promise<string>[] = [];
  // held is a request the handler keeps without reading, to read after its client went away.
  let held: Promise<IncomingMessage>;
  let hold: (req: IncomingMessage) => void;
  before(async () => {
    held = new Promise((resolve) => (hold = resolve));
    server = createServer((req, res) => {
      if (req.url === '/hold') return hold(req);
      readBody(req, 1024).then(
        (text) => sendJson(res, 200, { length: text.length, text: text.slice(0, 8) }),
        (err: unknown) => {
          outcomes.push(err instanceof BodyTooLargeError ? 'too large' : String(err));
          settled.push(
            new Promise((resolve) => {
              if (req.readableEnded) return resolve('read to its end');
              req.once('end', () => resolve('read to its end'));
              setTimeout(() => resolve('still unread after 3 s'), 3000).unref();
            }),
          );
          answerUnread(req, res, 413, { error: 'too large' });
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const post = (path: string, body: Buffer | string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path, method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('reads a body in pieces, multi-byte characters across them included', async () => {
    const text = 'é'.repeat(500);
    const res = await post('/', text);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { length: 500, text: 'éééééééé' });
  });

  it('refuses a body past the limit, drops the rest, and answers', async () => {
    const res = await post('/', Buffer.alloc(256 * 1024, 'x'));
    assert.equal(res.status, 413);
    assert.deepEqual(outcomes, ['too large']);
    assert.equal(await settled[0], 'read to its end');
  });

  it('rejects for a request whose client went away before its body was read', async () => {
    const client = request({ port, host: '127.0.0.1', path: '/hold', method: 'POST' });
    client.on('error', () => {});
    client.write('{"partial":');
    const req = await held;
    client.destroy();
    await new Promise((resolve) => req.once('close', resolve));
    await assert.rejects(
      Promise.race([
        readBody(req, 1024),
        new Promise((_, reject) => setTimeout(() => reject(new Error('still waiting')), 2000)),
      ]),
      (err: Error) => err.message !== 'still waiting',
    );
  });
});

describe('HttpService connections', () => {
  it("reads the process's open-file limit, and keeps the clients' connections below it less a reserve", () => {
    const limits = (soft: string) => () =>
      `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                20000                files\n`;
    assert.equal(openFileLimit(limits('20000')), 20000);
    assert.equal(openFileLimit(limits('unlimited')), null);
    assert.equal(
      openFileLimit(() => {
        throw new Error('ENOENT');
      }),
      null,
    );
    if (process.platform === 'linux') assert.ok((openFileLimit() ?? 0) > 0);
    assert.deepEqual(connectionBound(50_000, 1_500, 20_000), { bound: 18_500, lowered: true });
    assert.deepEqual(connectionBound(10_000, 1_500, 20_000), { bound: 10_000, lowered: false });
    assert.deepEqual(connectionBound(50_000, 1_500, null), { bound: 50_000, lowered: false });
    assert.deepEqual(connectionBound(50_000, 2_000, 1_024), { bound: 512, lowered: true });
  });

  it('closes a new connection past maxConnections, and tells clients its keep-alive timeout', async () => {
    const service = new HttpService({
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: new Metrics('test'),
      host: '127.0.0.1',
      port: 0,
      admin: { host: '127.0.0.1', port: 0 },
      readiness: async () => ({ ready: true, checks: {} }),
      routes: { 'GET /hello': (_req, res) => sendJson(res, 200, { hello: true }) },
      keepAliveTimeoutMs: 65_000,
      maxConnections: 1,
    });
    const port = await service.listen();
    const held = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (agent: Agent) =>
      new Promise<{ status: number; keepAlive: string | undefined }>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', path: '/hello', agent }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode!, keepAlive: res.headers['keep-alive'] as string | undefined }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.deepEqual(await get(held), { status: 200, keepAlive: 'timeout=65' });
      // The first client's connection stays open (kept alive): a second one is past the bound.
      await assert.rejects(get(new Agent({ keepAlive: false })), /socket hang up|ECONNRESET/);
      assert.equal((await get(held)).status, 200, 'the open connection still serves');
    } finally {
      held.destroy();
      await service.close(1000);
    }
  });
});
