import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** UserRef is the `User` entity as chat knows it: by key only, resolved by the user subgraph. */
@ObjectType('User')
@Directive('@key(fields: "id", resolvable: false)')
export class UserRef {
  @Field(() => ID)
  id!: string;
}

/** ConversationType is the GraphQL `Conversation` entity, owned by chat. */
@ObjectType('Conversation', { description: "The chat between an order's customer and one provider." })
@Directive('@key(fields: "id")')
export class ConversationType {
  @Field(() => ID)
  id!: string;
}

/** OrderType is the `Order` entity as chat extends it with its conversations. */
@ObjectType('Order')
@Directive('@key(fields: "id")')
export class OrderType {
  @Field(() => ID)
  id!: string;
}
