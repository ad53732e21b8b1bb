import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { PageInfoType } from '../../../foundation/graphql/connection.js';

/** UserRef is the `User` entity as chat knows it: by key only, resolved by the user subgraph. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id", resolvable: false)')
export class UserRef {
  @Field(() => ID, { description: "The user's unique id." })
  id!: string;
}

/** ConversationType is the GraphQL `Conversation` entity, owned by chat. */
@ObjectType('Conversation', { description: "The chat between an order's customer and one provider." })
@Directive('@key(fields: "id")')
export class ConversationType {
  @Field(() => ID, { description: "The conversation's unique id." })
  id!: string;
}

/** MessageType is the GraphQL `Message`. */
@ObjectType('Message', { description: 'One message of a conversation.' })
export class MessageType {
  @Field(() => ID, { description: "The message's unique id." })
  id!: string;

  @Field({ description: 'The text, 1 to 4000 characters.' })
  body!: string;

  @Field({ description: 'When it was sent.' })
  sentAt!: Date;
}

/** MessageEdge and MessageConnection page a conversation's messages backwards (last/before). */
@ObjectType('MessageEdge', { description: 'One message of a page, with its cursor.' })
export class MessageEdge {
  @Field({ description: 'Where this edge is in the list: pass it as `after` or `before`.' })
  cursor!: string;

  @Field(() => MessageType, { description: 'The message.' })
  node!: MessageType;
}

@ObjectType('MessageConnection', { description: "A page of a conversation's messages (Relay connection)." })
export class MessageConnection {
  @Field(() => [MessageEdge], { description: 'The items of this page, in order.' })
  edges!: MessageEdge[];

  @Field(() => PageInfoType, { description: 'Where this page sits in the whole list.' })
  pageInfo!: PageInfoType;
}

/** OrderType is the `Order` entity as chat extends it with its conversations. */
@ObjectType('Order', { description: "A customer's request for a service." })
@Directive('@key(fields: "id")')
export class OrderType {
  @Field(() => ID, { description: "The order's unique id." })
  id!: string;
}
