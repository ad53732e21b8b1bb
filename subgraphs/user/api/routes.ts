import type { ServerResponse } from 'node:http';
import { sendJson, type RouteHandler } from '../../../foundation/http/server.js';
import { gatewayOnly, type GatewayTrust } from '../../../foundation/auth/identity.js';
import type { FeedSubscriber, PostgresSessionFeed, SessionEvent } from '../store/session-feed.js';
import { SESSION_FEED_HEARTBEAT_MS } from '../../../contracts/session-events.js';

/** jwksRoute publishes the public keys that verify access tokens (read at each request: a rotation reloads them). */
export function jwksRoute(jwks: () => unknown): RouteHandler {
  return (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    sendJson(res, 200, jwks());
  };
}

/**
 * sessionEventsRoute streams the session feed to a gateway as server-sent
 * events: `id` is the sequence number to resume after (Last-Event-ID or
 * `?after=`), and a `synced` event marks the end of the replay.
 */
export function sessionEventsRoute(
  feed: PostgresSessionFeed,
  trust: GatewayTrust,
  heartbeatMs = SESSION_FEED_HEARTBEAT_MS,
): RouteHandler {
  return gatewayOnly(trust, async (req, res, scope) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const raw = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('after');
    const after = raw && /^\d+$/.test(raw) ? Number(raw) : null;
    if (!feed.listening) return sendJson(res, 503, { error: 'the session feed is not listening; try again' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // The headers go now: the gateway's silence timer starts with them, before a long replay.
    res.flushHeaders();
    const write = (text: string) => {
      if (!res.writableEnded) (res as ServerResponse).write(text);
    };
    const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs);
    const subscriber: FeedSubscriber = {
      send: (event: SessionEvent) => write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`),
      end: () => {
        clearInterval(heartbeat);
        res.end();
      },
    };
    const ended = new Promise<void>((resolve) => {
      res.on('close', resolve);
    });
    try {
      await feed.subscribe(subscriber, after);
      // Ended during the replay (the feed's listener was lost): no `synced`, the gateway follows again.
      if (res.writableEnded) return;
      write('event: synced\ndata: {}\n\n');
      scope.outcome = 'stream';
      await ended;
    } finally {
      clearInterval(heartbeat);
      feed.unsubscribe(subscriber);
    }
  });
}
