import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SignedInCaller } from '../../../contracts/caller.js';
import { SignedIn } from '../../../foundation/graphql/permissions.js';
import { InvalidInputError } from '../../../foundation/core/errors.js';
import { parseId } from '../../../foundation/core/ids.js';
import { decodeCursor, encodeCursor, pageSize } from '../../../foundation/core/pagination.js';
import type { Conversation, ConversationService, Message } from '../business/conversations.js';
import type { ChatContext } from './context.js';
import { ConversationType, MessageConnection, MessageType, OrderType, UserRef } from './types.js';

function cursorOf(message: Message): string {
  return encodeCursor([message.position]);
}

/** ConversationResolver serves conversations, their messages and their participants. */
@Resolver(() => ConversationType)
export class ConversationResolver {
  constructor(private readonly chat: ConversationService) {}

  @Query(() => ConversationType, {
    nullable: true,
    description: 'One conversation, by id, for its participants and admins.',
  })
  conversation(@Arg('id', () => ID) id: string, @SignedIn() caller: SignedInCaller): Promise<Conversation> {
    return this.chat.conversation(parseId(id, 'id'), caller.viewer);
  }

  @Mutation(() => ConversationType, {
    description:
      'A provider opens (or returns) the conversation about an OPEN order in their skills; the customer, with the providerId of one who offered.',
  })
  openConversation(
    @Arg('orderId', () => ID) orderId: string,
    @Arg('providerId', () => ID, { nullable: true }) providerId: string | null,
    @SignedIn() caller: SignedInCaller,
  ): Promise<Conversation> {
    return this.chat.openConversation(
      parseId(orderId, 'orderId'),
      providerId == null ? null : parseId(providerId, 'providerId'),
      caller,
    );
  }

  // Nullable: a participant may no longer see the order (another provider's offer was accepted), yet still reads the
  // chat.
  @FieldResolver(() => OrderType, { nullable: true, description: 'The order the conversation is about.' })
  order(@Root() conversation: Conversation): OrderType {
    return { id: conversation.orderId };
  }

  @FieldResolver(() => UserRef, { description: "The order's customer." })
  customer(@Root() conversation: Conversation): UserRef {
    return { id: conversation.customerId };
  }

  @FieldResolver(() => UserRef, { description: 'The provider the customer talks with.' })
  provider(@Root() conversation: Conversation): UserRef {
    return { id: conversation.providerId };
  }

  @FieldResolver(() => MessageConnection, {
    description: 'Messages, paged backwards from the newest: last and before.',
  })
  async messages(
    @Root() conversation: Conversation,
    @Arg('last', () => Int, { nullable: true }) last: number | null,
    @Arg('before', () => String, { nullable: true }) before: string | null,
  ) {
    const size = pageSize(last, 'last');
    const position = before == null ? null : (decodeCursor(before, 'before', ['number'])[0] as number);
    const page = await this.chat.history(conversation, size, position);
    const edges = page.items.map((node) => ({ cursor: cursorOf(node), node }));
    return {
      edges,
      pageInfo: {
        hasPreviousPage: page.hasPreviousPage,
        hasNextPage: before != null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }
}

/** MessageResolver serves messages: sending, following, and what a message refers to. */
@Resolver(() => MessageType)
export class MessageResolver {
  constructor(private readonly chat: ConversationService) {}

  @Mutation(() => MessageType, {
    description: 'Sends a message (1 to 4000 characters after trimming); the two participants only.',
  })
  sendMessage(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('body') body: string,
    @SignedIn() caller: SignedInCaller,
  ): Promise<Message> {
    return this.chat.sendMessage(parseId(conversationId, 'conversationId'), body, caller);
  }

  @Subscription(() => MessageType, {
    description:
      'New messages of a conversation; with `after` (the last message id seen), every message after it first, in order, then live ones.',
    subscribe: ({ args, context }) =>
      (context as ChatContext).follow(
        parseId(args.conversationId as string, 'conversationId'),
        args.after == null ? null : parseId(args.after as string, 'after'),
      ),
  })
  messageAdded(
    @Root() message: Message,
    @Arg('conversationId', () => ID) _conversationId: string,
    @Arg('after', () => ID, { nullable: true }) _after: string | null,
  ): Message {
    return message;
  }

  @FieldResolver(() => UserRef, { description: 'Who sent the message.' })
  sender(@Root() message: Message): UserRef {
    return { id: message.senderId };
  }

  @FieldResolver(() => ConversationType, { description: 'The conversation the message belongs to.' })
  async conversation(@Root() message: Message, @Ctx() ctx: ChatContext): Promise<Conversation> {
    const found = await ctx.loaders.conversation.load(message.conversationId);
    if (!found) throw new InvalidInputError('conversationId', 'no such conversation');
    return found;
  }
}

/** OrderConversationsResolver contributes `Order.conversations` to the supergraph: those the viewer may read. */
@Resolver(() => OrderType)
export class OrderConversationsResolver {
  constructor(private readonly chat: ConversationService) {}

  @FieldResolver(() => [ConversationType], { description: "The order's conversations the caller may see." })
  async conversations(@Root() order: OrderType, @Ctx() ctx: ChatContext): Promise<Conversation[]> {
    const all = await ctx.loaders.conversationsOfOrder.load(order.id);
    return all.filter((c) => this.chat.mayRead(c, ctx.caller.viewer));
  }
}
