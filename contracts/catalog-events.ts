import { z } from 'zod';

/**
 * catalogFeedEventSchema is one entry of the catalog subgraph's feed, a change feed (contracts/feeds.ts) at GET
 * /internal/catalog-events: a provider added or removed a service of their skills (`skills`: what a gateway keeps of
 * that provider's `User.skills` and of that service's `Service.providers` is dropped, and what order keeps of that
 * provider's skills). Services and categories never
 * change otherwise once made, so they have no events of their own.
 */
export const catalogFeedEventSchema = z.object({
  seq: z.number().int(),
  kind: z.enum(['skills']),
  providerId: z.string(),
  serviceId: z.string(),
  at: z.string(),
});
export type CatalogFeedEvent = z.infer<typeof catalogFeedEventSchema>;

/**
 * CATALOG_SEQ_HEADER is the catalog subgraph's answer header that names its feed's sequence number once a mutation's
 * events are published; the gateway that made the request waits for its copy of the feed to reach it before it answers
 * the client (read-your-writes), and never forwards the header.
 */
export const CATALOG_SEQ_HEADER = 'x-fixup-catalog-seq';
