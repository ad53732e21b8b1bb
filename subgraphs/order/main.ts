import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { loadSettings, maskSecrets } from '../../foundation/config.js';
import { runSubgraph, subgraphSettings } from '../../foundation/subgraph-service.js';
import { orderMigrations } from '../../migrations/order/index.js';
import { createLoaders, type OrderContext } from './api/context.js';
import { buildOrderSchema } from './api/schema.js';
import { OrderService } from './business/orders.js';
import { OrderRow } from './store/entities.js';
import { PostgresOrderStore } from './store/order-store.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = subgraphSettings('order', 4003, root);
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup order subgraph');

await runSubgraph<OrderContext>({
  name: 'order',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [OrderRow],
  migrations: orderMigrations,
  async wire(dataSource) {
    const orders = new OrderService(new PostgresOrderStore(dataSource));
    return {
      schema: await buildOrderSchema(orders),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(orders) }),
    };
  },
});
