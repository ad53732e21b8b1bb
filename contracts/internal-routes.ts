import { z } from 'zod';
import { auditEventSchema } from './audit.js';
import { idSchema } from './ids.js';
import { catalogFeedEventSchema } from './catalog-events.js';
import { orderFeedEventSchema } from './order-events.js';
import { sessionFeedEventSchema } from './session-events.js';

/** MAX_INTERNAL_IDS bounds the ids of one internal look-up. */
export const MAX_INTERNAL_IDS = 200;

/** idListSchema reads a query parameter of comma-separated ids: 1 to MAX_INTERNAL_IDS of them. */
export const idListSchema = z
  .string()
  .transform((text) => text.split(',').filter(Boolean))
  .pipe(z.array(idSchema).min(1).max(MAX_INTERNAL_IDS));

/**
 * An internal GET route: its path, the query it takes (each parameter a
 * string) and the JSON it answers. Both ends import the same object: the
 * server answers with a value of the reply's type, the caller parses the reply
 * with its schema.
 */
export interface InternalGetRoute<Q extends z.ZodObject = z.ZodObject, R extends z.ZodType = z.ZodType> {
  path: string;
  query: Q;
  reply: R;
}

/** internalGetRoute declares an internal GET route (typed by inference). */
function internalGetRoute<Q extends z.ZodObject, R extends z.ZodType>(
  route: InternalGetRoute<Q, R>,
): InternalGetRoute<Q, R> {
  return route;
}

/** catalog: GET /internal/provider-skills?providerIds=a,b — the services each provider offers. */
export const providerSkillsRoute = internalGetRoute({
  path: '/internal/provider-skills',
  query: z.object({ providerIds: idListSchema }),
  reply: z.object({ skills: z.array(z.object({ providerId: z.string(), serviceId: z.string() })) }),
});

/** catalog: GET /internal/services?ids=a,b — the services that exist among the ids. */
export const servicesRoute = internalGetRoute({
  path: '/internal/services',
  query: z.object({ ids: idListSchema }),
  reply: z.object({ services: z.array(z.object({ id: z.string(), categoryId: z.string(), name: z.string() })) }),
});

/** OrderStatus is an order's state in the order subgraph's workflow. */
export const OrderStatus = z.enum(['OPEN', 'ACCEPTED', 'COMPLETED', 'CANCELLED']);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** order: GET /internal/order-facts?ids=a,b — what chat must know to decide who may talk about an order. */
export const orderFactsRoute = internalGetRoute({
  path: '/internal/order-facts',
  query: z.object({ ids: idListSchema }),
  reply: z.object({
    orders: z.array(
      z.object({
        id: z.string(),
        customerId: z.string(),
        status: OrderStatus,
        serviceId: z.string(),
        /** offerProviderIds are the providers who made an offer on the order. */
        offerProviderIds: z.array(z.string()),
      }),
    ),
  }),
});

/** OrderFacts is one order of the order-facts reply. */
export type OrderFacts = z.infer<typeof orderFactsRoute.reply>['orders'][number];

/** MAX_AUDIT_BATCH bounds the events of one audit delivery. */
export const MAX_AUDIT_BATCH = 1000;

/**
 * audit: POST /internal/audit-events with `Authorization: Bearer <AUDIT_INGEST_SECRET>`:
 * a batch of events from a subgraph's outbox relay; the reply counts those received and newly stored.
 */
export const auditIngestRoute = {
  path: '/internal/audit-events',
  request: z.object({ events: z.array(auditEventSchema).max(MAX_AUDIT_BATCH) }),
  reply: z.object({ received: z.number().int(), stored: z.number().int() }),
};

/** user: GET /internal/session-events — the session feed as server-sent events, each `data` one event. */
export const sessionEventsRoute = {
  path: '/internal/session-events',
  event: sessionFeedEventSchema,
};

/**
 * catalog: GET /internal/catalog-events — the catalog's change feed (skills) as server-sent events (feeds.ts), to
 * gateways (their token) and to subgraphs (their own credentials): order follows it to keep providers' skills.
 */
export const catalogEventsRoute = {
  path: '/internal/catalog-events',
  event: catalogFeedEventSchema,
};

/**
 * order: GET /internal/order-events — the order subgraph's change feed (an order's status) as server-sent events
 * (feeds.ts), to gateways only (their token): a gateway keeps each caller's answer of an order's status on its word.
 */
export const orderEventsRoute = {
  path: '/internal/order-events',
  event: orderFeedEventSchema,
};
