import { sendJson, type RouteHandler } from '../../../foundation/http/server.js';
import { gatewayOnly, type GatewayTrust } from '../../../foundation/auth/identity.js';
import { isId } from '../../../foundation/core/ids.js';
import type { OrderService } from '../business/orders.js';

/**
 * orderInternalRoutes are the facts the order subgraph tells other subgraphs
 * directly (chat decides who may talk about an order with them), answered only
 * to calls that carry the gateway's token:
 * - GET /internal/order-facts?ids=a,b -> { orders: [{ id, customerId, status, serviceId, offerProviderIds, acceptedProviderId }] }
 */
export function orderInternalRoutes(orders: OrderService, trust: GatewayTrust): Record<string, RouteHandler> {
  return {
    'GET /internal/order-facts': gatewayOnly(trust, async (req, res) => {
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
