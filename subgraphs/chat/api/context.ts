import type DataLoader from 'dataloader';
import { byIdLoader, groupLoader } from '../../../foundation/graphql/loaders.js';
import type { CallerContext } from '../../../foundation/graphql/permissions.js';
import type { Conversation, ConversationService, Message } from '../business/conversations.js';

/** ChatLoaders batch chat's look-ups within one request. */
export interface ChatLoaders {
  conversation: DataLoader<string, Conversation | null>;
  conversationsOfOrder: DataLoader<string, Conversation[]>;
}

/** ChatContext is the per-request (or per-subscription) GraphQL context of the chat subgraph. */
export interface ChatContext extends CallerContext {
  loaders: ChatLoaders;
  /** follow streams a conversation's messages for this caller (messageAdded). */
  follow: (conversationId: string, afterMessageId: string | null) => Promise<AsyncIterable<Message>>;
}

/**
 * createLoaders makes a request's loaders, each on its first use: a subscription's context lives as long as the
 * subscription (10,000 at once per chat instance), and most never load a conversation by order.
 */
export function createLoaders(conversations: ConversationService): ChatLoaders {
  let conversation: ChatLoaders['conversation'] | undefined;
  let conversationsOfOrder: ChatLoaders['conversationsOfOrder'] | undefined;
  return {
    get conversation() {
      return (conversation ??= byIdLoader('conversation', (ids) => conversations.conversationsByIds(ids)));
    },
    get conversationsOfOrder() {
      return (conversationsOfOrder ??= groupLoader(
        'conversationsOfOrder',
        (ids) => conversations.conversationsByOrderIds(ids),
        (c) => c.orderId,
      ));
    },
  };
}
