import type { MigrationClass } from '../../foundation/postgres.js';
import { CreateOrders1732300000000 } from './1732300000000-create-orders.js';

/** orderMigrations lists the order database's migrations in the order they run. */
export const orderMigrations: MigrationClass[] = [CreateOrders1732300000000];
