import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { parseId } from '../../../foundation/ids.js';
import type { Order, OrderService } from '../business/orders.js';
import type { OrderContext } from './context.js';
import { OrderType, ServiceRef, UserRef } from './types.js';

/** OrderResolver serves orders and their references to other subgraphs. */
@Resolver(() => OrderType)
export class OrderResolver {
  constructor(private readonly orders: OrderService) {}

  @Query(() => OrderType, { nullable: true, description: 'One order, by id.' })
  order(@Arg('id', () => ID) id: string, @Ctx() ctx: OrderContext): Promise<Order> {
    return this.orders.order(parseId(id, 'id'), ctx.caller.viewer!);
  }

  @FieldResolver(() => ServiceRef)
  service(@Root() order: Order): ServiceRef {
    return { id: order.serviceId };
  }

  @FieldResolver(() => UserRef)
  customer(@Root() order: Order): UserRef {
    return { id: order.customerId };
  }
}
