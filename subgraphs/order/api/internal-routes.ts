import { sendJson, type RouteHandler } from '../../../foundation/http-server.js';
import { serviceOnly, type ServiceCredentials } from '../../../foundation/internal-calls.js';
import { isId } from '../../../foundation/ids.js';
import type { OrderService } from '../business/orders.js';

/**
 * orderInternalRoutes are the facts the order subgraph tells other subgraphs
 * directly (chat decides who may talk about an order with them), answered only
 * to other Fixup services calling with their own credentials (serviceOnly):
 * - GET /internal/order-facts?ids=a,b -> { orders: [{ id, customerId, status, serviceId, offerProviderIds, acceptedProviderId }] }
 */
export function orderInternalRoutes(orders: OrderService, internal: ServiceCredentials): Record<string, RouteHandler> {
  return {
    'GET /internal/order-facts': serviceOnly(internal, async (req, res) => {
      const ids = (new URL(req.url ?? '/', 'http://localhost').searchParams.get('ids') ?? '').split(',').filter(Boolean);
      if (ids.length === 0 || ids.length > 200 || !ids.every(isId)) return sendJson(res, 400, { error: 'bad ids' });
      const [found, offers] = await Promise.all([orders.ordersByIds(ids), orders.offersOfOrders(ids)]);
      sendJson(res, 200, {
        orders: found.map((o) => {
          const mine = offers.filter((f) => f.orderId === o.id);
          return {
            id: o.id,
            customerId: o.customerId,
            status: o.status,
            serviceId: o.serviceId,
            offerProviderIds: [...new Set(mine.map((f) => f.providerId))],
            acceptedProviderId: mine.find((f) => f.id === o.acceptedOfferId)?.providerId ?? null,
          };
        }),
      });
    }),
  };
}
