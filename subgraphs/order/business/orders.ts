import { NotFoundError } from '../../../foundation/errors.js';

/** OrderStatus is where an order is in its workflow. */
export type OrderStatus = 'OPEN' | 'ACCEPTED' | 'COMPLETED' | 'CANCELLED';

/** Order is a customer's request for a service. */
export interface Order {
  id: string;
  customerId: string;
  serviceId: string;
  description: string;
  status: OrderStatus;
  createdAt: Date;
  updatedAt: Date;
}

/** OrderStore is the storage the order workflow needs; the store layer implements it. */
export interface OrderStore {
  ordersByIds(ids: readonly string[]): Promise<Order[]>;
}

/** OrderService holds the order workflow's rules. */
export class OrderService {
  constructor(private readonly store: OrderStore) {}

  /** order loads one order or fails with NOT_FOUND. */
  async order(id: string): Promise<Order> {
    const [order] = await this.store.ordersByIds([id]);
    if (!order) throw new NotFoundError('Order', id);
    return order;
  }

  /** ordersByIds loads a batch of orders (entity references, loaders). */
  ordersByIds(ids: readonly string[]): Promise<Order[]> {
    return this.store.ordersByIds(ids);
  }
}
