import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/ids.js';
import { buildFederatedSchema } from '../../../foundation/subgraph.js';
import type { OrderService } from '../business/orders.js';
import type { OrderContext } from './context.js';
import { OrderResolver } from './resolvers.js';

/**
 * buildOrderSchema builds the order subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export function buildOrderSchema(orders?: OrderService): Promise<GraphQLSchema> {
  return buildFederatedSchema<OrderContext>({
    resolvers: [OrderResolver],
    instances: orders ? new Map<Function, object>([[OrderResolver, new OrderResolver(orders)]]) : undefined,
    references: {
      Order: (ref, ctx) => (isId(ref.id) ? ctx.loaders.order.load(ref.id) : null),
    },
  });
}
