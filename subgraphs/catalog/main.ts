import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import {
  booleanSchema,
  loadSettings,
  maskSecrets,
  nonNegativeIntSchema,
  positiveIntSchema,
  setting,
} from '../../foundation/service/config.js';
import { runSubgraph, subgraphSettings, withPassword } from '../../foundation/service/subgraph-service.js';
import { changeFeedRoute } from '../../foundation/http/change-feed-route.js';
import { gatewayOrService } from '../../foundation/http/internal-calls.js';
import { catalogEventsRoute } from '../../contracts/internal-routes.js';
import { catalogMigrations } from '../../migrations/catalog/index.js';
import { createLoaders, type CatalogContext } from './api/context.js';
import { catalogInternalRoutes } from './api/internal-routes.js';
import { buildCatalogSchema } from './api/schema.js';
import { CatalogService } from './business/catalog.js';
import { DEMO_CATALOG } from './business/demo-catalog.js';
import { PostgresCatalogFeed } from './store/catalog-feed.js';
import { PostgresCatalogStore } from './store/catalog-store.js';
import { CategoryRow, ServiceRow } from './store/entities.js';
import { watchCatalogFeed } from './metrics.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = {
  ...subgraphSettings('catalog', root),
  seedDemo: setting({
    env: 'CATALOG_SEED_DEMO',
    doc: 'add the demo catalog at start when missing (npm start turns it on; off by default so production stays empty)',
    schema: booleanSchema,
    fallback: 'false',
  }),
  feedKeepHours: setting({
    env: 'CATALOG_FEED_KEEP_HOURS',
    doc: "how long the catalog feed's events are kept (older ones are deleted hourly); at least a day",
    schema: positiveIntSchema.min(24).max(87_600),
    fallback: '168',
  }),
  keptRows: setting({
    env: 'CATALOG_KEPT_ROWS',
    doc: 'services, and as many categories, kept in memory once read: they never change once made (the runtime role may only read and add them); also the most services ranked by name to order skills (past it, PostgreSQL sorts them); 0 reads them every time',
    schema: nonNegativeIntSchema,
    fallback: '10000',
  }),
};
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup catalog subgraph');

await runSubgraph<CatalogContext>({
  name: 'catalog',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [CategoryRow, ServiceRow],
  outbox: true,
  migrations: catalogMigrations,
  async wire(dataSource, logger, trust, internal) {
    const feed = new PostgresCatalogFeed(
      dataSource,
      withPassword(settings.dbUrl, settings.dbPasswordFile),
      settings.feedKeepHours * 3600,
      logger,
    );
    await feed.start();
    watchCatalogFeed(feed);
    const catalog = new CatalogService(new PostgresCatalogStore(dataSource, settings.keptRows), feed);
    return {
      schema: await buildCatalogSchema(catalog),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(catalog) }),
      answerHeaders: (operation) => feed.answerHeaders(operation),
      routes: {
        ...catalogInternalRoutes(catalog, internal),
        [`GET ${catalogEventsRoute.path}`]: changeFeedRoute(feed, (handle) =>
          gatewayOrService(trust, internal, handle),
        ),
      },
      startup: settings.seedDemo ? () => catalog.seed(DEMO_CATALOG) : undefined,
      stop: () => feed.close(),
    };
  },
});
