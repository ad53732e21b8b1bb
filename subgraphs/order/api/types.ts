import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../../foundation/graphql/connection.js';

/** OrderStatusEnum is the GraphQL `OrderStatus`. */
export enum OrderStatusEnum {
  OPEN = 'OPEN',
  ACCEPTED = 'ACCEPTED',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(OrderStatusEnum, { name: 'OrderStatus', description: 'Where an order is in its workflow.' });

/** OfferStatusEnum is the GraphQL `OfferStatus`. */
export enum OfferStatusEnum {
  PENDING = 'PENDING',
  ACCEPTED = 'ACCEPTED',
  REJECTED = 'REJECTED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(OfferStatusEnum, { name: 'OfferStatus', description: 'Where an offer is in its workflow.' });

/** UserType is the `User` entity as order extends it with a customer's orders and a provider's offers. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID, { description: "The user's unique id." })
  id!: string;
}

/** ServiceRef is the `Service` entity as order knows it: by key only, resolved by catalog. */
@ObjectType('Service', { description: 'A kind of work that providers offer and customers order.' })
@Directive('@key(fields: "id", resolvable: false)')
export class ServiceRef {
  @Field(() => ID, { description: "The service's unique id." })
  id!: string;
}

/** OrderType is the GraphQL `Order` entity, owned by order. */
@ObjectType('Order', { description: "A customer's request for a service." })
@Directive('@key(fields: "id")')
export class OrderType {
  @Field(() => ID, { description: "The order's unique id." })
  id!: string;

  @Field(() => OrderStatusEnum, { description: 'Where the order is in its workflow.' })
  status!: OrderStatusEnum;

  @Field({ description: 'What the customer needs done.' })
  description!: string;

  @Field({ description: 'When the order was made.' })
  createdAt!: Date;
}

/** OfferType is the GraphQL `Offer`: a provider's price for an order. */
@ObjectType('Offer', { description: "A provider's price for an order." })
export class OfferType {
  @Field(() => ID, { description: "The offer's unique id." })
  id!: string;

  @Field(() => Int, { description: 'The price in the smallest unit of the currency (cents).' })
  priceCents!: number;

  @Field({ description: 'An ISO 4217 code such as EUR.' })
  currency!: string;

  @Field(() => String, { nullable: true, description: "The provider's note to the customer." })
  message!: string | null;

  @Field(() => OfferStatusEnum, { description: 'Where the offer is in its workflow.' })
  status!: OfferStatusEnum;

  @Field({ description: 'When the offer was made.' })
  createdAt!: Date;
}

/** CreateOrderInputType is the contract's `CreateOrderInput`. */
@InputType('CreateOrderInput', { description: 'What a new order needs.' })
export class CreateOrderInputType {
  @Field(() => ID, { description: 'The service the customer needs.' })
  serviceId!: string;

  @Field({ description: '1 to 4000 characters.' })
  description!: string;
}

/** SubmitOfferInputType is the contract's `SubmitOfferInput`. */
@InputType('SubmitOfferInput', { description: "A provider's offer on an order." })
export class SubmitOfferInputType {
  @Field(() => ID, { description: 'The order to offer on.' })
  orderId!: string;

  @Field(() => Int, { description: '1 to 100,000,000 (cents).' })
  priceCents!: number;

  @Field({ description: 'An ISO 4217 code such as EUR.' })
  currency!: string;

  @Field(() => String, { nullable: true, description: 'At most 2000 characters.' })
  message?: string | null;
}

/** OrderConnection and OfferConnection are the Relay connections of orders and offers. */
export const { Connection: OrderConnection } = connectionTypes('Order', OrderType);
export const { Connection: OfferConnection } = connectionTypes('Offer', OfferType);
