import type { MigrationClass } from '../../foundation/postgres/database.js';
import { CreateOrders1732300000000 } from './1732300000000-create-orders.js';
import { Offers1732400000000 } from './1732400000000-offers.js';
import { OrderEvents1764979200000 } from './1764979200000-order-events.js';
import { OrdersChangeThroughTheFeed1765065600000 } from './1765065600000-orders-change-through-the-feed.js';

/** orderMigrations lists the order database's migrations in the order they run. */
export const orderMigrations: MigrationClass[] = [
  CreateOrders1732300000000,
  Offers1732400000000,
  OrderEvents1764979200000,
  OrdersChangeThroughTheFeed1765065600000,
];
