import { type DataSource, type Repository } from 'typeorm';
import { anyOf } from '../../../foundation/postgres.js';
import type { Conversation, ConversationStore } from '../business/conversations.js';
import { ConversationRow } from './entities.js';

/** toConversation converts a row to the business value. */
export function toConversation(row: ConversationRow): Conversation {
  return { id: row.id, orderId: row.orderId, customerId: row.customerId, providerId: row.providerId, createdAt: row.createdAt };
}

/** PostgresConversationStore is chat's storage on its own database. */
export class PostgresConversationStore implements ConversationStore {
  private readonly conversations: Repository<ConversationRow>;

  constructor(dataSource: DataSource) {
    this.conversations = dataSource.getRepository(ConversationRow);
  }

  async conversationsByIds(ids: readonly string[]): Promise<Conversation[]> {
    if (ids.length === 0) return [];
    return (await this.conversations.findBy({ id: anyOf(ids) })).map(toConversation);
  }

  async conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]> {
    if (orderIds.length === 0) return [];
    return (
      await this.conversations.find({ where: { orderId: anyOf(orderIds) }, order: { createdAt: 'ASC', id: 'ASC' } })
    ).map(toConversation);
  }
}
