import type { DataSource } from 'typeorm';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { PostgresChangeFeed } from '../../../foundation/postgres/change-feed.js';
import { ORDER_SEQ_HEADER, type OrderFeedEvent } from '../../../contracts/order-events.js';
import type { OrderFeed } from '../business/orders.js';

/** Row is a row of order_events as pg reads it. */
interface Row {
  seq: string;
  kind: 'order';
  order_id: string;
  created_at: Date;
}

function toEvent(row: Row): OrderFeedEvent {
  return {
    seq: Number(row.seq),
    kind: row.kind,
    orderId: row.order_id,
    at: row.created_at.toISOString(),
  };
}

/**
 * PostgresOrderFeed is the order subgraph's change feed: `order_events` (written, under an advisory lock, by the
 * trigger on `orders` with each change of an order's status or accepted offer:
 * migrations/order/1764979200000-order-events.ts), served by the generic PostgresChangeFeed. A new follower is
 * replayed nothing: a gateway that starts keeps nothing of orders yet, so it needs only what changes from then on; the
 * `synced` event tells it the feed's position, from which it resumes after a lost stream, and it keeps no answer
 * fetched before it was in sync.
 */
export class PostgresOrderFeed extends PostgresChangeFeed<OrderFeedEvent, Row> implements OrderFeed {
  constructor(dataSource: DataSource, listenUrl: string, keepSeconds: number, logger: Logger) {
    super(dataSource, listenUrl, {
      table: 'order_events',
      channel: 'order_events',
      applicationName: 'fixup-order-feed',
      toEvent,
      seqHeader: ORDER_SEQ_HEADER,
      replaySeconds: 0,
      keepSeconds,
      name: 'order feed',
      logger,
    });
  }
}
