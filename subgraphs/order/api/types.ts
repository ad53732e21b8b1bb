import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';

/** OrderStatusEnum is the GraphQL `OrderStatus`. */
export enum OrderStatusEnum {
  OPEN = 'OPEN',
  ACCEPTED = 'ACCEPTED',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(OrderStatusEnum, { name: 'OrderStatus', description: 'Where an order is in its workflow.' });

/** UserRef is the `User` entity as order knows it: by key only, resolved by the user subgraph. */
@ObjectType('User')
@Directive('@key(fields: "id", resolvable: false)')
export class UserRef {
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
