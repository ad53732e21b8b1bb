import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { WebSocket } from 'ws';
import { createLogger } from '../telemetry/logger.js';
import { serveGraphqlWs, WebSocketEndpoint } from './websocket.js';

const KEEP_ALIVE_MS = 300;

describe('serveGraphqlWs keep-alive', () => {
  let server: Server;
  let endpoint: WebSocketEndpoint;
  let url: string;
  before(async () => {
    server = createServer();
    endpoint = new WebSocketEndpoint(server, '/graphql');
    serveGraphqlWs(
      // The sockets here never send connection_init: graphql-ws's wait for it (3 s) is turned off.
      { schema: buildSchema('type Query { ok: Boolean }'), connectionInitWaitTimeout: 0 },
      endpoint.wss,
      KEEP_ALIVE_MS,
      createLogger({ service: 'test', level: 'silent' }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  after(async () => {
    await endpoint.close();
    server.close();
  });

  /** opened is a graphql-ws socket (the subprotocol only) with ws's automatic answer to pings on or off. */
  const opened = async (autoPong: boolean) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong });
    const pings: number[] = [];
    socket.on('ping', () => pings.push(Date.now()));
    const closed = new Promise<{ code: number; at: number }>((resolve) =>
      socket.once('close', (code) => resolve({ code, at: Date.now() })),
    );
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return { socket, pings, closed, openedAt: Date.now() };
  };

  it(
    'terminates a socket that does not answer a ping by the next, and keeps one that answers',
    { timeout: 10_000 },
    async () => {
      const [silent, answering] = await Promise.all([opened(false), opened(true)]);
      const { code, at } = await silent.closed;
      // Terminated (no close frame: 1006) after its first ping went unanswered for one interval.
      assert.equal(code, 1006);
      assert.ok(silent.pings.length >= 1, 'the silent socket was pinged before it was terminated');
      // (Timestamps are the client's, taken as it reads its events: a little tolerance.)
      const unanswered = at - silent.pings[0]!;
      assert.ok(unanswered >= 0.9 * KEEP_ALIVE_MS, `terminated ${unanswered} ms after its ping, before one interval`);
      // The answering socket outlives several intervals and is pinged in each.
      await new Promise((resolve) => setTimeout(resolve, 3 * KEEP_ALIVE_MS));
      assert.equal(answering.socket.readyState, WebSocket.OPEN);
      assert.ok(answering.pings.length >= 3, `pinged ${answering.pings.length} times in about four intervals`);
      answering.socket.close();
      await answering.closed;
    },
  );
});
