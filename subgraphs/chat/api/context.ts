import type DataLoader from 'dataloader';
import { byIdLoader, groupLoader } from '../../../foundation/loaders.js';
import type { CallerContext } from '../../../foundation/permissions.js';
import type { Conversation, ConversationService } from '../business/conversations.js';

/** ChatLoaders batch chat's look-ups within one request. */
export interface ChatLoaders {
  conversation: DataLoader<string, Conversation | null>;
  conversationsOfOrder: DataLoader<string, Conversation[]>;
}

/** ChatContext is the per-request GraphQL context of the chat subgraph. */
export interface ChatContext extends CallerContext {
  loaders: ChatLoaders;
}

/** createLoaders makes a request's loaders. */
export function createLoaders(conversations: ConversationService): ChatLoaders {
  return {
    conversation: byIdLoader('conversation', (ids) => conversations.conversationsByIds(ids)),
    conversationsOfOrder: groupLoader('conversationsOfOrder', (ids) => conversations.conversationsByOrderIds(ids), (c) => c.orderId),
  };
}
