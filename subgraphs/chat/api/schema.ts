import type { GraphQLSchema } from 'graphql';
import { isId } from '../../../foundation/core/ids.js';
import { withPermissions } from '../../../foundation/graphql/permissions.js';
import { buildFederatedSchema } from '../../../foundation/graphql/subgraph-schema.js';
import type { ConversationService } from '../business/conversations.js';
import type { ChatContext } from './context.js';
import { chatPermissions } from './permissions.js';
import { ConversationResolver, MessageResolver, OrderConversationsResolver } from './resolvers.js';

/**
 * buildChatSchema builds the chat subgraph's schema, with its permissions,
 * around its business service; without one it can be printed but not executed.
 */
export async function buildChatSchema(conversations?: ConversationService): Promise<GraphQLSchema> {
  const schema = await buildFederatedSchema<ChatContext>({
    resolvers: [ConversationResolver, MessageResolver, OrderConversationsResolver],
    instances: conversations
      ? new Map<Function, object>([
          [ConversationResolver, new ConversationResolver(conversations)],
          [MessageResolver, new MessageResolver(conversations)],
          [OrderConversationsResolver, new OrderConversationsResolver(conversations)],
        ])
      : undefined,
    references: {
      Conversation: async (ref, ctx) => {
        const conversation = isId(ref.id) ? await ctx.loaders.conversation.load(ref.id) : null;
        return conversation && conversations?.mayRead(conversation, ctx.caller.viewer) ? conversation : null;
      },
      // Chat only adds fields to Order; the order subgraph decides whether it exists.
      Order: (ref) => (isId(ref.id) ? { id: ref.id } : null),
    },
  });
  return withPermissions(schema, chatPermissions);
}
