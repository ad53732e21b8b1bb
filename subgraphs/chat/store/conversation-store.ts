import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import type { Caller } from '../../../contracts/caller.js';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { recordAuditEvent } from '../../../foundation/events/outbox.js';
import { EntityReader, returnedRows } from '../../../foundation/postgres/database.js';
import type { ChatStore, ChatTx, Conversation, Message, MessageWakeups } from '../business/conversations.js';
import { ConversationRow, MessageRow } from './entities.js';
import { WakeupListeners } from './wakeup-listeners.js';

/** toConversation converts a row to the business value. */
export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    orderId: row.orderId,
    customerId: row.customerId,
    providerId: row.providerId,
    createdAt: row.createdAt,
  };
}

/** toMessage converts a row to the business value. */
export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversationId,
    position: Number(row.position),
    senderId: row.senderId,
    body: row.body,
    sentAt: row.sentAt,
  };
}

class PostgresChatTx implements ChatTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly caller: Caller,
    private readonly announcements: boolean,
  ) {}

  async insertConversation(conversation: Conversation): Promise<{ conversation: Conversation; created: boolean }> {
    const inserted = returnedRows(
      await this.manager.query(
        `INSERT INTO conversations (id, order_id, customer_id, provider_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT conversations_order_provider_key DO NOTHING RETURNING id`,
        [conversation.id, conversation.orderId, conversation.customerId, conversation.providerId],
      ),
    );
    const row = await this.manager.findOneByOrFail(ConversationRow, {
      orderId: conversation.orderId,
      providerId: conversation.providerId,
    });
    return { conversation: toConversation(row), created: inserted.length > 0 };
  }

  async appendMessage(message: Omit<Message, 'position' | 'sentAt'>): Promise<Message> {
    // One statement: the conversation's row stays locked by the UPDATE until the transaction ends, so positions are
    // taken in commit order.
    const [row] = returnedRows<{ position: string; sent_at: Date }>(
      await this.manager.query(
        `WITH taken AS (UPDATE conversations SET last_position = last_position + 1 WHERE id = $2 RETURNING last_position)
         INSERT INTO messages (id, conversation_id, position, sender_id, body)
         SELECT $1, $2, last_position, $3, $4 FROM taken RETURNING position, sent_at`,
        [message.id, message.conversationId, message.senderId, message.body],
      ),
    );
    if (!row) throw new Error(`conversation ${message.conversationId} vanished while a message was added`);
    const stored: Message = { ...message, position: Number(row.position), sentAt: row.sent_at };
    // Committed with the message: whoever publishes the announcement removes it (NatsMessageWakeups).
    if (this.announcements) {
      await this.manager.query(`INSERT INTO message_announcements (conversation_id, position) VALUES ($1, $2)`, [
        stored.conversationId,
        stored.position,
      ]);
    }
    return stored;
  }

  async record(entry: AuditEntry): Promise<void> {
    await recordAuditEvent(this.manager, 'chat', entry, this.caller);
  }
}

/**
 * PostgresChatStore is chat's storage on its own database. With
 * `announcements` (the NATS broker), each message is also recorded as still
 * to be announced, in its own transaction.
 */
export class PostgresChatStore implements ChatStore {
  private readonly conversations: EntityReader<ConversationRow>;
  private readonly messages: EntityReader<MessageRow>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: { announcements?: boolean } = {},
  ) {
    this.conversations = new EntityReader(dataSource, ConversationRow, 'c');
    this.messages = new EntityReader(dataSource, MessageRow, 'm');
  }

  transaction<T>(caller: Caller, fn: (tx: ChatTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) =>
      fn(new PostgresChatTx(manager, caller, this.options.announcements === true)),
    );
  }

  async conversationsByIds(ids: readonly string[]): Promise<Conversation[]> {
    if (ids.length === 0) return [];
    return (await this.conversations.rows('WHERE c.id = ANY($1::uuid[])', [ids])).map(toConversation);
  }

  async conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]> {
    if (orderIds.length === 0) return [];
    return (
      await this.conversations.rows('WHERE c.order_id = ANY($1::uuid[]) ORDER BY c.created_at, c.id', [orderIds])
    ).map(toConversation);
  }

  async messagesAfter(conversationId: string, position: number, limit: number): Promise<Message[]> {
    const rows = await this.dataSource
      .getRepository(MessageRow)
      .createQueryBuilder('m')
      .where('m.conversation_id = :conversationId AND m.position > :position', { conversationId, position })
      .orderBy('m.position', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toMessage);
  }

  async messagesBefore(conversationId: string, position: number | null, limit: number): Promise<Message[]> {
    const query = this.dataSource
      .getRepository(MessageRow)
      .createQueryBuilder('m')
      .where('m.conversation_id = :conversationId', { conversationId });
    if (position !== null) query.andWhere('m.position < :position', { position });
    return (await query.orderBy('m.position', 'DESC').limit(limit).getMany()).map(toMessage);
  }

  async lastPositionBefore(conversationId: string, before: Date): Promise<number> {
    const rows = returnedRows<{ position: string | null }>(
      await this.dataSource.query(
        `SELECT max(position) AS position FROM messages WHERE conversation_id = $1 AND sent_at < $2`,
        [conversationId, before],
      ),
    );
    return Number(rows[0]?.position ?? 0);
  }

  async messagesByIds(ids: readonly string[]): Promise<Message[]> {
    if (ids.length === 0) return [];
    return (await this.messages.rows('WHERE m.id = ANY($1::uuid[])', [ids])).map(toMessage);
  }
}

/**
 * PostgresMessageWakeups listens on the chat database's `chat_messages`
 * channel (one connection per process) and wakes the followers of a
 * conversation. Every chat process hears every message, whichever process
 * committed it.
 */
export class PostgresMessageWakeups implements MessageWakeups {
  private readonly listeners = new WakeupListeners();
  private client: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'fixup-chat-wakeups' });
    client.on('notification', (n) => {
      this.listeners.wake(n.payload);
    });
    client.on('error', (err) => {
      this.client = undefined;
      this.logger.warn({ err }, 'message wake-ups lost; reconnecting');
      client.end().catch(() => {});
      // Followers re-read the table on the next wake-up, so a missed notification delays, never loses, a message.
      this.listeners.wakeAll();
      setTimeout(
        () => void this.start().catch((e) => this.logger.error({ err: e }, 'message wake-ups failed')),
        1000,
      ).unref();
    });
    await client.connect();
    await client.query('LISTEN chat_messages');
    this.client = client;
  }

  /** connected tells whether the LISTEN connection is up (false while it reconnects). */
  get connected(): boolean {
    return this.client !== undefined;
  }

  listen(conversationId: string, wake: (position: number) => void): () => void {
    return this.listeners.listen(conversationId, wake);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => {});
  }
}
