import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../../foundation/graphql-connection.js';

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
@ObjectType('User')
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID)
  id!: string;
}

/** ServiceRef is the `Service` entity as order knows it: by key only, resolved by catalog. */
@ObjectType('Service')
@Directive('@key(fields: "id", resolvable: false)')
export class ServiceRef {
  @Field(() => ID)
  id!: string;
}

/** OrderType is the GraphQL `Order` entity, owned by order. */
@ObjectType('Order', { description: "A customer's request for a service." })
@Directive('@key(fields: "id")')
export class OrderType {
  @Field(() => ID)
  id!: string;

  @Field(() => OrderStatusEnum)
  status!: OrderStatusEnum;

  @Field()
  description!: string;

  @Field()
  createdAt!: Date;
}

/** OfferType is the GraphQL `Offer`: a provider's price for an order. */
@ObjectType('Offer', { description: "A provider's price for an order." })
export class OfferType {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: 'The price in the smallest unit of the currency (cents).' })
  priceCents!: number;

  @Field({ description: 'An ISO 4217 code such as EUR.' })
  currency!: string;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => OfferStatusEnum)
  status!: OfferStatusEnum;

  @Field()
  createdAt!: Date;
}

/** CreateOrderInputType is the contract's `CreateOrderInput`. */
@InputType('CreateOrderInput')
export class CreateOrderInputType {
  @Field(() => ID)
  serviceId!: string;

  @Field({ description: '1 to 4000 characters.' })
  description!: string;
}

/** SubmitOfferInputType is the contract's `SubmitOfferInput`. */
@InputType('SubmitOfferInput')
export class SubmitOfferInputType {
  @Field(() => ID)
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
