import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/ids.js';
import { buildFederatedSchema } from '../../../foundation/subgraph.js';
import type { ConversationService } from '../business/conversations.js';
import type { ChatContext } from './context.js';
import { ConversationResolver, OrderConversationsResolver } from './resolvers.js';

/**
 * buildChatSchema builds the chat subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export function buildChatSchema(conversations?: ConversationService): Promise<GraphQLSchema> {
  return buildFederatedSchema<ChatContext>({
    resolvers: [ConversationResolver, OrderConversationsResolver],
    instances: conversations
      ? new Map<Function, object>([
          [ConversationResolver, new ConversationResolver(conversations)],
          [OrderConversationsResolver, new OrderConversationsResolver()],
        ])
      : undefined,
    references: {
      Conversation: (ref, ctx) => (isId(ref.id) ? ctx.loaders.conversation.load(ref.id) : null),
      // Chat only adds fields to Order; the order subgraph decides whether it exists.
      Order: (ref) => (isId(ref.id) ? { id: ref.id } : null),
    },
  });
}
