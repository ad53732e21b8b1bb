import { orderFactsRoute } from '../../../contracts/internal-routes.js';
import { internalGetRoute, type ServiceCredentials } from '../../../foundation/http/internal-calls.js';
import type { RouteHandler } from '../../../foundation/http/server.js';
import type { OrderService } from '../business/orders.js';

/**
 * orderInternalRoutes are the facts the order subgraph tells other subgraphs
 * directly (chat decides who may talk about an order with them), answered only
 * to other Fixup services calling with their own credentials (serviceOnly): contracts/internal-routes.ts's
 * orderFactsRoute.
 */
export function orderInternalRoutes(orders: OrderService, internal: ServiceCredentials): Record<string, RouteHandler> {
  return internalGetRoute(internal, orderFactsRoute, async ({ ids }) => {
    const [found, offers] = await Promise.all([orders.ordersByIds(ids), orders.offersOfOrders(ids)]);
    return {
      orders: found.map((o) => ({
        id: o.id,
        customerId: o.customerId,
        status: o.status,
        serviceId: o.serviceId,
        offerProviderIds: [...new Set(offers.filter((f) => f.orderId === o.id).map((f) => f.providerId))],
      })),
    };
  });
}
