import { In, type DataSource, type Repository } from 'typeorm';
import type { Order, OrderStatus, OrderStore } from '../business/orders.js';
import { OrderRow } from './entities.js';

/** toOrder converts a row to the business value. */
export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    customerId: row.customerId,
    serviceId: row.serviceId,
    description: row.description,
    status: row.status as OrderStatus,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** PostgresOrderStore is the order subgraph's storage on its own database. */
export class PostgresOrderStore implements OrderStore {
  private readonly orders: Repository<OrderRow>;

  constructor(dataSource: DataSource) {
    this.orders = dataSource.getRepository(OrderRow);
  }

  async ordersByIds(ids: readonly string[]): Promise<Order[]> {
    if (ids.length === 0) return [];
    return (await this.orders.findBy({ id: In([...ids]) })).map(toOrder);
  }
}
