import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/core/ids.js';
import { withPermissions } from '../../../foundation/graphql/permissions.js';
import { buildFederatedSchema } from '../../../foundation/graphql/subgraph-schema.js';
import type { OrderService } from '../business/orders.js';
import type { OrderContext } from './context.js';
import { orderPermissions } from './permissions.js';
import { OfferResolver, OrderResolver, UserOrdersResolver } from './resolvers.js';

/**
 * buildOrderSchema builds the order subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export async function buildOrderSchema(orders?: OrderService): Promise<GraphQLSchema> {
  const schema = await buildFederatedSchema<OrderContext>({
    resolvers: [OrderResolver, OfferResolver, UserOrdersResolver],
    instances: orders
      ? new Map<Function, object>([
          [OrderResolver, new OrderResolver(orders)],
          [OfferResolver, new OfferResolver(orders)],
          [UserOrdersResolver, new UserOrdersResolver(orders)],
        ])
      : undefined,
    references: {
      // An order reached by reference obeys the same visibility as order(id).
      Order: async (ref, ctx) => {
        const order = isId(ref.id) ? await ctx.loaders.order.load(ref.id) : null;
        return order && (await orders?.maySee(order, ctx.caller, (id) => ctx.loaders.offer.load(id))) ? order : null;
      },
      // Order only adds fields to User; the user subgraph decides whether the user exists.
      User: (ref) => (isId(ref.id) ? { id: ref.id } : null),
    },
  });
  return withPermissions(schema, orderPermissions);
}
