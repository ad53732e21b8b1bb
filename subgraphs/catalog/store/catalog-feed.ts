import type { DataSource } from 'typeorm';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { PostgresChangeFeed } from '../../../foundation/postgres/change-feed.js';
import { CATALOG_SEQ_HEADER, type CatalogFeedEvent } from '../../../contracts/catalog-events.js';
import type { CatalogFeed } from '../business/catalog.js';

/** Row is a row of catalog_events as pg reads it. */
interface Row {
  seq: string;
  kind: 'skills';
  provider_id: string;
  service_id: string;
  created_at: Date;
}

function toEvent(row: Row): CatalogFeedEvent {
  return {
    seq: Number(row.seq),
    kind: row.kind,
    providerId: row.provider_id,
    serviceId: row.service_id,
    at: row.created_at.toISOString(),
  };
}

/**
 * PostgresCatalogFeed is the catalog subgraph's change feed: `catalog_events` (written, under an advisory lock, by the
 * trigger on `skills` with each change of a row: migrations/catalog/1764806400000-catalog-events.ts), served by the
 * generic PostgresChangeFeed. A new follower is replayed nothing: a gateway that starts keeps nothing of the catalog
 * yet, so it needs only what changes from then on; the `synced` event tells it the feed's position, from which it
 * resumes after a lost stream, and it keeps no answer fetched before it was in sync.
 */
export class PostgresCatalogFeed extends PostgresChangeFeed<CatalogFeedEvent, Row> implements CatalogFeed {
  constructor(dataSource: DataSource, listenUrl: string, keepSeconds: number, logger: Logger) {
    super(dataSource, listenUrl, {
      table: 'catalog_events',
      channel: 'catalog_events',
      applicationName: 'fixup-catalog-feed',
      toEvent,
      seqHeader: CATALOG_SEQ_HEADER,
      replaySeconds: 0,
      keepSeconds,
      name: 'catalog feed',
      logger,
    });
  }
}
