import type { ServerResponse } from 'node:http';
import { FEED_HEARTBEAT_MS, type FeedSynced } from '../../contracts/feeds.js';
import type { ChangeFeed, FeedSubscriber } from '../postgres/change-feed.js';
import { sendJson, type RouteHandler } from './server.js';

/**
 * changeFeedRoute streams a change feed (contracts/feeds.ts) to its followers (gateways, and subgraphs where the feed's
 * owner lets them in: `guard` is gatewayOnly or gatewayOrService) as server-sent events: `id` is the sequence
 * number to resume after (Last-Event-ID or `?after=`), a `synced` event marks the end of the replay with the feed's
 * position (so a follower that saw no event yet resumes from there), and a comment line
 * comes every heartbeatMs so that a follower can tell a quiet feed from a lost stream. While the feed does not hear
 * every instance's events it answers 503: a stream it served then could miss some.
 */
export function changeFeedRoute<E extends { seq: number }>(
  feed: ChangeFeed<E>,
  guard: (handle: RouteHandler) => RouteHandler,
  heartbeatMs = FEED_HEARTBEAT_MS,
): RouteHandler {
  return guard(async (req, res, scope) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const raw = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('after');
    const after = raw && /^\d+$/.test(raw) ? Number(raw) : null;
    if (!feed.listening) return sendJson(res, 503, { error: `the ${feed.name} is not listening; try again` });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // The headers go now: the follower's silence timer starts with them, before a long replay.
    res.flushHeaders();
    const write = (text: string) => {
      if (!res.writableEnded) (res as ServerResponse).write(text);
    };
    const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs);
    const subscriber: FeedSubscriber<E> = {
      send: (event: E) => write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`),
      end: () => {
        clearInterval(heartbeat);
        res.end();
      },
    };
    const ended = new Promise<void>((resolve) => {
      res.on('close', resolve);
    });
    try {
      const position = await feed.subscribe(subscriber, after);
      // Ended during the replay (the feed's listener was lost): no `synced`, the follower follows again.
      if (position === null || res.writableEnded) return;
      const synced: FeedSynced = { seq: position };
      write(`event: synced\ndata: ${JSON.stringify(synced)}\n\n`);
      scope.outcome = 'stream';
      await ended;
    } finally {
      clearInterval(heartbeat);
      feed.unsubscribe(subscriber);
    }
  });
}
