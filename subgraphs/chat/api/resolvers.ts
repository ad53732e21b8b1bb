import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { parseId } from '../../../foundation/ids.js';
import type { Conversation, ConversationService } from '../business/conversations.js';
import type { ChatContext } from './context.js';
import { ConversationType, OrderType, UserRef } from './types.js';

/** ConversationResolver serves conversations and their participants. */
@Resolver(() => ConversationType)
export class ConversationResolver {
  constructor(private readonly conversations: ConversationService) {}

  @Query(() => ConversationType, { nullable: true, description: 'One conversation, by id.' })
  conversation(@Arg('id', () => ID) id: string, @Ctx() ctx: ChatContext): Promise<Conversation> {
    return this.conversations.conversation(parseId(id, 'id'), ctx.caller.viewer!);
  }

  @FieldResolver(() => OrderType)
  order(@Root() conversation: Conversation): OrderType {
    return { id: conversation.orderId };
  }

  @FieldResolver(() => UserRef)
  customer(@Root() conversation: Conversation): UserRef {
    return { id: conversation.customerId };
  }

  @FieldResolver(() => UserRef)
  provider(@Root() conversation: Conversation): UserRef {
    return { id: conversation.providerId };
  }
}

/** OrderConversationsResolver contributes `Order.conversations` to the supergraph: those the viewer may read. */
@Resolver(() => OrderType)
export class OrderConversationsResolver {
  constructor(private readonly chat: ConversationService) {}

  @FieldResolver(() => [ConversationType])
  async conversations(@Root() order: OrderType, @Ctx() ctx: ChatContext): Promise<Conversation[]> {
    const all = await ctx.loaders.conversationsOfOrder.load(order.id);
    return all.filter((c) => this.chat.mayRead(c, ctx.caller.viewer));
  }
}
