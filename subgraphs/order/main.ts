import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { serviceUrl } from '../../contracts/services.js';
import {
  loadSettings,
  maskSecrets,
  nonNegativeIntSchema,
  positiveIntSchema,
  setting,
} from '../../foundation/service/config.js';
import { catalogEventsRoute, orderEventsRoute } from '../../contracts/internal-routes.js';
import { runSubgraph, subgraphSettings, withPassword } from '../../foundation/service/subgraph-service.js';
import { changeFeedRoute } from '../../foundation/http/change-feed-route.js';
import { gatewayOnly } from '../../foundation/auth/identity.js';
import { orderMigrations } from '../../migrations/order/index.js';
import { createLoaders, type OrderContext } from './api/context.js';
import { orderInternalRoutes } from './api/internal-routes.js';
import { buildOrderSchema } from './api/schema.js';
import { OrderService } from './business/orders.js';
import { HttpCatalogFacts } from './store/catalog-facts.js';
import { KeptSkills } from './store/kept-skills.js';
import { skillsLooked, watchKeptSkills, watchOrderFeed } from './metrics.js';
import { OfferRow, OrderRow } from './store/entities.js';
import { PostgresOrderFeed } from './store/order-feed.js';
import { PostgresOrderStore } from './store/order-store.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = {
  ...subgraphSettings('order', root),
  catalogUrl: setting({
    env: 'ORDER_CATALOG_URL',
    doc: "the catalog subgraph's base URL, for its internal routes (skills, services)",
    schema: z.url(),
    fallback: serviceUrl('catalog'),
  }),
  maxOffersPerProvider: setting({
    env: 'ORDER_MAX_OFFERS_PER_PROVIDER',
    doc: 'offers one provider may make on one order, withdrawn ones included (past it: CONFLICT)',
    schema: positiveIntSchema,
    fallback: '3',
  }),
  keptSkills: setting({
    env: 'ORDER_KEPT_SKILLS',
    doc: "providers whose skills order keeps (at most 1000000; a provider with more than 50 skills is not kept), following the catalog's change feed (a request is answered from the copy only when it is as far as the request's gateway knows the feed to be); 0 asks catalog on every request and follows no feed",
    schema: nonNegativeIntSchema.max(1_000_000),
    fallback: '10000',
  }),
  feedKeepHours: setting({
    env: 'ORDER_FEED_KEEP_HOURS',
    doc: "how long the order feed's events are kept (older ones are deleted hourly); at least a day",
    schema: positiveIntSchema.min(24).max(87_600),
    fallback: '168',
  }),
  catalogTimeoutMs: setting({
    env: 'ORDER_CATALOG_TIMEOUT_MS',
    doc: 'longest one internal call to catalog may take',
    schema: positiveIntSchema,
    fallback: '3000',
  }),
};
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup order subgraph');

await runSubgraph<OrderContext>({
  name: 'order',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [OrderRow, OfferRow],
  outbox: true,
  migrations: orderMigrations,
  async wire(dataSource, logger, trust, internal) {
    const feed = new PostgresOrderFeed(
      dataSource,
      withPassword(settings.dbUrl, settings.dbPasswordFile),
      settings.feedKeepHours * 3600,
      logger,
    );
    await feed.start();
    watchOrderFeed(feed);
    // Without a copy (ORDER_KEPT_SKILLS=0), every look-up of a provider's skills asks catalog.
    const kept =
      settings.keptSkills > 0
        ? new KeptSkills(
            new URL(catalogEventsRoute.path, settings.catalogUrl).href,
            internal,
            settings.keptSkills,
            logger,
            skillsLooked,
          )
        : undefined;
    if (kept) {
      watchKeptSkills(kept);
      kept.start();
    }
    const orders = new OrderService(
      new PostgresOrderStore(dataSource),
      new HttpCatalogFacts(settings.catalogUrl, { credentials: internal, timeoutMs: settings.catalogTimeoutMs }, kept),
      feed,
      settings.maxOffersPerProvider,
    );
    return {
      stop: async () => {
        kept?.stop();
        await feed.close();
      },
      schema: await buildOrderSchema(orders),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(orders, caller.viewer) }),
      answerHeaders: (operation) => feed.answerHeaders(operation),
      routes: {
        ...orderInternalRoutes(orders, internal),
        // Only gateways follow the order feed: they keep each caller's answer of an order's status on its word.
        [`GET ${orderEventsRoute.path}`]: changeFeedRoute(feed, (handle) => gatewayOnly(trust, handle)),
      },
    };
  },
});
