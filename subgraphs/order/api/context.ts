import type DataLoader from 'dataloader';
import { byIdLoader, groupLoader } from '../../../foundation/graphql/loaders.js';
import { MAX_PAGE_SIZE } from '../../../foundation/core/pagination.js';
import type { Viewer } from '../../../contracts/caller.js';
import type { CallerContext } from '../../../foundation/graphql/permissions.js';
import type { Offer, Order, OrderService } from '../business/orders.js';

/** OrderLoaders batch the order subgraph's look-ups within one request. */
export interface OrderLoaders {
  order: DataLoader<string, Order | null>;
  offer: DataLoader<string, Offer | null>;
  /**
   * offersOfOrder gives each order's first offers, whoever made them; ownOffersOfOrder only the viewer's own (none
   * signed out).
   */
  offersOfOrder: DataLoader<string, Offer[]>;
  ownOffersOfOrder: DataLoader<string, Offer[]>;
}

/** OrderContext is the per-request GraphQL context of the order subgraph. */
export interface OrderContext extends CallerContext {
  loaders: OrderLoaders;
}

/** createLoaders makes a request's loaders, for the request's viewer. */
export function createLoaders(orders: OrderService, viewer: Viewer | null): OrderLoaders {
  return {
    order: byIdLoader('order', (ids) => orders.ordersByIds(ids)),
    offer: byIdLoader('offer', (ids) => orders.offersByIds(ids)),
    offersOfOrder: groupLoader(
      'offersOfOrder',
      (ids) => orders.offersOfOrders(ids, MAX_PAGE_SIZE),
      (o) => o.orderId,
    ),
    ownOffersOfOrder: groupLoader(
      'ownOffersOfOrder',
      async (ids) => (viewer ? orders.offersOfOrders(ids, MAX_PAGE_SIZE, viewer.id) : []),
      (o) => o.orderId,
    ),
  };
}
