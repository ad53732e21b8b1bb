import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { SignedInCaller } from '../../../contracts/caller.js';
import { SignedIn } from '../../../foundation/graphql/permissions.js';
import { toConnection, type ConnectionShape } from '../../../foundation/graphql/connection.js';
import { parseId } from '../../../foundation/core/ids.js';
import { decodeTimeCursor, encodeTimeCursor, pageSize } from '../../../foundation/core/pagination.js';
import type { Offer, Order, OrderService, OrderStatus, OrderView, Position } from '../business/orders.js';
import type { OrderContext } from './context.js';
import {
  CreateOrderInputType,
  OfferConnection,
  OfferType,
  OrderConnection,
  OrderStatusEnum,
  OrderType,
  ServiceRef,
  SubmitOfferInputType,
  UserType,
} from './types.js';

/** cursorOf is an order's or offer's opaque position in a newest-first list. */
function cursorOf(item: { createdAt: Date; id: string }): string {
  return encodeTimeCursor(item.createdAt, item.id);
}

/** positionOf reads an `after` cursor. */
function positionOf(after: string | null | undefined): Position | undefined {
  const position = decodeTimeCursor(after, 'after');
  return position && { createdAt: position.at, id: position.id };
}

/** OrderResolver serves orders, the workflow's mutations, and what an order refers to. */
@Resolver(() => OrderType)
export class OrderResolver {
  constructor(private readonly orders: OrderService) {}

  @Query(() => OrderType, { nullable: true, description: 'One order, by id, if the caller may see it.' })
  order(@Arg('id', () => ID) id: string, @Ctx() ctx: OrderContext): Promise<Order> {
    return this.orders.order(parseId(id, 'id'), ctx.caller);
  }

  @Mutation(() => OrderType, { description: 'Opens an order for a service (customers).' })
  createOrder(
    @Arg('input', () => CreateOrderInputType) input: CreateOrderInputType,
    @SignedIn() caller: SignedInCaller,
  ): Promise<Order> {
    return this.orders.createOrder(
      { serviceId: parseId(input.serviceId, 'input.serviceId'), description: input.description },
      caller,
    );
  }

  @Mutation(() => OrderType, {
    description: "Accepts an offer on one's own OPEN order; every other pending offer is rejected.",
  })
  acceptOffer(@Arg('offerId', () => ID) offerId: string, @SignedIn() caller: SignedInCaller): Promise<Order> {
    return this.orders.acceptOffer(parseId(offerId, 'offerId'), caller);
  }

  @Mutation(() => OrderType, { description: "Marks one's own ACCEPTED order done." })
  completeOrder(@Arg('orderId', () => ID) orderId: string, @SignedIn() caller: SignedInCaller): Promise<Order> {
    return this.orders.completeOrder(parseId(orderId, 'orderId'), caller);
  }

  @Mutation(() => OrderType, { description: "Cancels one's own OPEN or ACCEPTED order." })
  cancelOrder(@Arg('orderId', () => ID) orderId: string, @SignedIn() caller: SignedInCaller): Promise<Order> {
    return this.orders.cancelOrder(parseId(orderId, 'orderId'), caller);
  }

  @FieldResolver(() => ServiceRef, { description: 'The service the order is for.' })
  service(@Root() order: Order): ServiceRef {
    return { id: order.serviceId };
  }

  @FieldResolver(() => UserType, { description: 'The customer who made the order.' })
  customer(@Root() order: Order): UserType {
    return { id: order.customerId };
  }

  @FieldResolver(() => [OfferType], {
    description:
      'Its first offers, oldest first (first: default 20, at most 100). Its customer sees every offer; a provider only their own.',
  })
  async offers(
    @Root() order: Order,
    @Ctx() ctx: OrderContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
  ): Promise<Offer[]> {
    const size = pageSize(first, 'first');
    // The visibility filter runs in the query, before the page is taken: a provider's own offers are found however many
    // others there are.
    const visible = this.orders.offersVisibleTo(order, ctx.caller.viewer);
    if (visible === 'none') return [];
    const loader = visible === 'all' ? ctx.loaders.offersOfOrder : ctx.loaders.ownOffersOfOrder;
    return (await loader.load(order.id)).slice(0, size);
  }

  @FieldResolver(() => OfferType, {
    nullable: true,
    description: 'The offer the customer accepted, once there is one.',
  })
  acceptedOffer(@Root() order: Order, @Ctx() ctx: OrderContext): Promise<Offer | null> | null {
    return order.acceptedOfferId ? ctx.loaders.offer.load(order.acceptedOfferId) : null;
  }
}

/** OfferResolver serves offers and the provider's mutations. */
@Resolver(() => OfferType)
export class OfferResolver {
  constructor(private readonly orders: OrderService) {}

  @Mutation(() => OfferType, {
    description: "Offers a price on an OPEN order whose service is among the provider's skills.",
  })
  submitOffer(
    @Arg('input', () => SubmitOfferInputType) input: SubmitOfferInputType,
    @SignedIn() caller: SignedInCaller,
  ): Promise<Offer> {
    return this.orders.submitOffer(
      {
        orderId: parseId(input.orderId, 'input.orderId'),
        priceCents: input.priceCents,
        currency: input.currency,
        message: input.message ?? null,
      },
      caller,
    );
  }

  @Mutation(() => OfferType, { description: "Withdraws one's own PENDING offer." })
  withdrawOffer(@Arg('offerId', () => ID) offerId: string, @SignedIn() caller: SignedInCaller): Promise<Offer> {
    return this.orders.withdrawOffer(parseId(offerId, 'offerId'), caller);
  }

  @FieldResolver(() => OrderType, {
    description:
      'The order the offer is for. Its provider always sees its id, status and service; its other fields follow the rules of order(id).',
  })
  async order(@Root() offer: Offer, @Ctx() ctx: OrderContext): Promise<OrderView> {
    const order = (await ctx.loaders.order.load(offer.orderId))!;
    return this.orders.orderOfOffer(offer, order, ctx.caller, (id) => ctx.loaders.offer.load(id));
  }

  @FieldResolver(() => UserType, { description: 'The provider who made the offer.' })
  provider(@Root() offer: Offer): UserType {
    return { id: offer.providerId };
  }
}

/** UserOrdersResolver contributes a customer's orders and a provider's offers and matching orders to `User`. */
@Resolver(() => UserType)
export class UserOrdersResolver {
  constructor(private readonly workflow: OrderService) {}

  /**
   * me is the signed-in user as a reference, the same field as the user
   * subgraph's (`@shareable` in both): a query that asks `me` only for its id
   * and this subgraph's fields (`MatchingOrders`, `MyOffers`, `MyOrders`) is planned as
   * one fetch here instead of a fetch to user first. Both answer the caller's
   * id from the token the gateway checked (users are never deleted).
   */
  @Query(() => UserType, { nullable: true, description: 'The signed-in user.' })
  @Directive('@shareable')
  me(@SignedIn() caller: SignedInCaller): UserType {
    return { id: caller.viewer.id };
  }

  @FieldResolver(() => OrderConnection, {
    nullable: true,
    description: "The user's orders as a customer, newest first.",
  })
  async orders(
    @Root() user: UserType,
    @Arg('status', () => OrderStatusEnum, { nullable: true }) status: OrderStatusEnum | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: OrderContext,
  ): Promise<ConnectionShape<Order>> {
    const page = await this.workflow.ordersOf(
      user.id,
      (status ?? undefined) as OrderStatus | undefined,
      pageSize(first, 'first'),
      positionOf(after),
    );
    for (const order of page.items) ctx.loaders.order.prime(order.id, order);
    return toConnection(page, cursorOf);
  }

  @FieldResolver(() => OfferConnection, {
    nullable: true,
    description: "The user's offers as a provider, newest first.",
  })
  async offers(
    @Root() user: UserType,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConnectionShape<Offer>> {
    return toConnection(await this.workflow.offersOf(user.id, pageSize(first, 'first'), positionOf(after)), cursorOf);
  }

  @FieldResolver(() => OrderConnection, {
    nullable: true,
    description: "OPEN orders for services among the provider's skills, newest first.",
  })
  async matchingOrders(
    @Root() _user: UserType,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @SignedIn() caller: SignedInCaller,
  ): Promise<ConnectionShape<Order>> {
    return toConnection(
      await this.workflow.matchingOrders(caller, pageSize(first, 'first'), positionOf(after)),
      cursorOf,
    );
  }
}
