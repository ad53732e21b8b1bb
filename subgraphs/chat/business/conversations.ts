import { NotFoundError } from '../../../foundation/errors.js';
import type { Viewer } from '../../../foundation/identity.js';

/** Conversation is the chat between an order's customer and one provider. */
export interface Conversation {
  id: string;
  orderId: string;
  customerId: string;
  providerId: string;
  createdAt: Date;
}

/** ConversationStore is the storage chat needs; the store layer implements it. */
export interface ConversationStore {
  conversationsByIds(ids: readonly string[]): Promise<Conversation[]>;
  conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]>;
}

/** ConversationService holds chat's rules about conversations. */
export class ConversationService {
  constructor(private readonly store: ConversationStore) {}

  /** conversation loads one conversation the viewer may read, or fails with NOT_FOUND. */
  async conversation(id: string, viewer: Viewer): Promise<Conversation> {
    const [conversation] = await this.store.conversationsByIds([id]);
    if (!conversation || !this.mayRead(conversation, viewer)) throw new NotFoundError('Conversation', id);
    return conversation;
  }

  /** mayRead tells whether the viewer may read a conversation: its customer, its provider, and admins. */
  mayRead(conversation: Conversation, viewer: Viewer | null): boolean {
    return !!viewer && (viewer.id === conversation.customerId || viewer.id === conversation.providerId || viewer.roles.includes('ADMIN'));
  }

  /** conversationsByIds loads a batch of conversations. */
  conversationsByIds(ids: readonly string[]): Promise<Conversation[]> {
    return this.store.conversationsByIds(ids);
  }

  /** conversationsByOrderIds loads the conversations of a batch of orders. */
  conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]> {
    return this.store.conversationsByOrderIds(orderIds);
  }
}
