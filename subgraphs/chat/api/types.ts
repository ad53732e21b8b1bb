import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { PageInfoType } from '../../../foundation/graphql-connection.js';

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

/** MessageType is the GraphQL `Message`. */
@ObjectType('Message', { description: 'One message of a conversation.' })
export class MessageType {
  @Field(() => ID)
  id!: string;

  @Field()
  body!: string;

  @Field()
  sentAt!: Date;
}

/** MessageEdge and MessageConnection page a conversation's messages backwards (last/before). */
@ObjectType('MessageEdge')
export class MessageEdge {
  @Field()
  cursor!: string;

  @Field(() => MessageType)
  node!: MessageType;
}

@ObjectType('MessageConnection')
export class MessageConnection {
  @Field(() => [MessageEdge])
  edges!: MessageEdge[];

  @Field(() => PageInfoType)
  pageInfo!: PageInfoType;
}

/** OrderType is the `Order` entity as chat extends it with its conversations. */
@ObjectType('Order')
@Directive('@key(fields: "id")')
export class OrderType {
  @Field(() => ID)
  id!: string;
}
