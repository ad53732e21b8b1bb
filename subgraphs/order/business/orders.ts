import { NotFoundError } from '../../../foundation/errors.js';
import type { Viewer } from '../../../foundation/identity.js';

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

  /** order loads one order the viewer may see, or fails with NOT_FOUND. */
  async order(id: string, viewer: Viewer): Promise<Order> {
    const [order] = await this.store.ordersByIds([id]);
    if (!order || !this.maySee(order, viewer)) throw new NotFoundError('Order', id);
    return order;
  }

  /** maySee tells whether the viewer may see an order: its customer and admins. */
  maySee(order: Order, viewer: Viewer | null): boolean {
    return !!viewer && (viewer.id === order.customerId || viewer.roles.includes('ADMIN'));
  }

  /** ordersByIds loads a batch of orders (entity references, loaders). */
  ordersByIds(ids: readonly string[]): Promise<Order[]> {
    return this.store.ordersByIds(ids);
  }
}
