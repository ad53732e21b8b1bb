import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import type { Caller } from '../../../contracts/caller.js';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { recordAuditEvent } from '../../../foundation/events/outbox.js';
import { EntityReader, isUniqueViolation, returnedRows } from '../../../foundation/postgres/database.js';
import { GroupedWrites } from '../../../foundation/postgres/grouped-writes.js';
import { KeptRows } from '../../../foundation/postgres/kept-rows.js';
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

/**
 * ADD_MESSAGE takes the conversation's next position and stores the message there in one statement: the UPDATE keeps
 * the conversation's row locked until the statement's transaction commits, so positions are taken in commit order.
 */
const ADD_MESSAGE = `WITH taken AS (UPDATE conversations SET last_position = last_position + 1 WHERE id = $2 RETURNING last_position)
  INSERT INTO messages (id, conversation_id, position, sender_id, body)
  SELECT $1, $2, last_position, $3, $4 FROM taken RETURNING position, sent_at`;

/**
 * ADD_MESSAGES is ADD_MESSAGE for several messages, of one conversation or several, in one statement ($1 ids, $2
 * conversations, $3 senders, $4 bodies, in sending order). Each conversation's position is raised once by its number of
 * messages, which take the positions in their order. The conversations are locked in the order of their ids first, so
 * that two such statements (of this process or another chat process) never wait on each other in a cycle; a single
 * ADD_MESSAGE locks one row and cannot close one either. A conversation that is gone returns no rows for its messages.
 */
const ADD_MESSAGES = `WITH sent AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[]) WITH ORDINALITY
      AS m(id, conversation_id, sender_id, body, n)
  ), counted AS (
    SELECT conversation_id, count(*) AS k FROM sent GROUP BY conversation_id
  ), locked AS (
    SELECT c.id FROM conversations c WHERE c.id IN (SELECT conversation_id FROM counted) ORDER BY c.id FOR UPDATE
  ), taken AS (
    UPDATE conversations c SET last_position = c.last_position + counted.k
    FROM locked JOIN counted ON counted.conversation_id = locked.id WHERE c.id = locked.id
    RETURNING c.id, c.last_position - counted.k AS before
  )
  INSERT INTO messages (id, conversation_id, position, sender_id, body)
  SELECT sent.id, sent.conversation_id,
    taken.before + row_number() OVER (PARTITION BY sent.conversation_id ORDER BY sent.n), sent.sender_id, sent.body
  FROM sent JOIN taken ON taken.id = sent.conversation_id
  RETURNING id, position, sent_at`;

/** addMessage runs ADD_MESSAGE on a connection or in a transaction (where the announcement commits with it). */
async function addMessage(
  run: Pick<EntityManager, 'query'>,
  message: Omit<Message, 'position' | 'sentAt'>,
): Promise<Message> {
  const [row] = returnedRows<{ position: string; sent_at: Date }>(
    await run.query(ADD_MESSAGE, [message.id, message.conversationId, message.senderId, message.body]),
  );
  if (!row) throw new Error(`conversation ${message.conversationId} vanished while a message was added`);
  return { ...message, position: Number(row.position), sentAt: row.sent_at };
}

/** addMessages runs ADD_MESSAGES, committed on its own, and answers each message in their order. */
async function addMessages(
  run: Pick<DataSource, 'query'>,
  messages: readonly Omit<Message, 'position' | 'sentAt'>[],
): Promise<(Message | Error)[]> {
  const rows = returnedRows<{ id: string; position: string; sent_at: Date }>(
    await run.query(ADD_MESSAGES, [
      messages.map((m) => m.id),
      messages.map((m) => m.conversationId),
      messages.map((m) => m.senderId),
      messages.map((m) => m.body),
    ]),
  );
  const stored = new Map(rows.map((row) => [row.id, row]));
  return messages.map((message) => {
    const row = stored.get(message.id);
    if (!row) return new Error(`conversation ${message.conversationId} vanished while a message was added`);
    return { ...message, position: Number(row.position), sentAt: row.sent_at };
  });
}

class PostgresChatTx implements ChatTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly caller: Caller,
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

  private readonly kept: KeptRows<Conversation>;
  /** added writes messages (without the NATS broker): those sent while every writer is busy go in one statement. */
  readonly added: GroupedWrites<Omit<Message, 'position' | 'sentAt'>, Message>;

  /**
   * options: `announcements` for the NATS broker; `keptConversations` bounds the conversations kept once read (0 reads
   * every time); `messageWriters`, `messagesPerStatement` and `messagesWaiting` bound the statements adding messages (2
   * at once, 64 messages each, 1,000 messages waiting for them).
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: {
      announcements?: boolean;
      keptConversations?: number;
      messageWriters?: number;
      messagesPerStatement?: number;
      messagesWaiting?: number;
    } = {},
  ) {
    this.conversations = new EntityReader(dataSource, ConversationRow, 'c');
    this.messages = new EntityReader(dataSource, MessageRow, 'm');
    this.kept = new KeptRows(options.keptConversations ?? 10_000);
    this.added = new GroupedWrites({
      lanes: options.messageWriters ?? 2,
      maxGroup: options.messagesPerStatement ?? 64,
      maxWaiting: options.messagesWaiting ?? 1000,
      one: (message) => this.addMessageOnce(message),
      many: (messages) => addMessages(this.dataSource, messages),
    });
  }

  transaction<T>(caller: Caller, fn: (tx: ChatTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => fn(new PostgresChatTx(manager, caller)));
  }

  /**
   * addMessage is one statement committed on its own (no BEGIN and COMMIT round trips) with LISTEN/NOTIFY, whose
   * trigger notifies at that commit. At most `messageWriters` such statements run at once: messages sent while all are
   * busy go together in the next (ADD_MESSAGES, up to `messagesPerStatement`), one commit for all. With
   * `announcements` (the NATS broker) the message is also recorded as still to be announced, in the same transaction,
   * one message per transaction.
   */
  async addMessage(message: Omit<Message, 'position' | 'sentAt'>): Promise<Message> {
    if (!this.options.announcements) return this.added.write(message);
    return this.dataSource.transaction(async (manager) => {
      const stored = await addMessage(manager, message);
      // Committed with the message: whoever publishes the announcement removes it (NatsMessageWakeups).
      await manager.query(`INSERT INTO message_announcements (conversation_id, position) VALUES ($1, $2)`, [
        stored.conversationId,
        stored.position,
      ]);
      return stored;
    });
  }

  /** conversationsByIds reads conversations, keeping those read (their fields never change once made). */
  conversationsByIds(ids: readonly string[]): Promise<Conversation[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.kept.byIds(ids, async (missing) =>
      (await this.conversations.rows('WHERE c.id = ANY($1::uuid[])', [missing])).map(toConversation),
    );
  }

  async conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]> {
    if (orderIds.length === 0) return [];
    return (
      await this.conversations.rows('WHERE c.order_id = ANY($1::uuid[]) ORDER BY c.created_at, c.id', [orderIds])
    ).map(toConversation);
  }

  async messagesAfter(conversationId: string, position: number, limit: number): Promise<Message[]> {
    const rows = await this.messages.rows(
      'WHERE m.conversation_id = $1 AND m.position > $2 ORDER BY m.position LIMIT $3',
      [conversationId, position, limit],
    );
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

  /**
   * addMessageOnce runs ADD_MESSAGE for a message that may be stored already: one of a group whose statement failed as
   * a whole, tried again alone (GroupedWrites). Should that statement have committed before its answer was lost (the
   * connection broke), the message is there under its id, and it is answered as stored rather than as failed: its
   * sender would otherwise send it again. A message of that id but another conversation, sender or body still fails.
   */
  private async addMessageOnce(message: Omit<Message, 'position' | 'sentAt'>): Promise<Message> {
    try {
      return await addMessage(this.dataSource, message);
    } catch (err) {
      if (!isUniqueViolation(err, 'messages_pkey')) throw err;
      const [stored] = await this.messagesByIds([message.id]);
      if (
        stored?.conversationId !== message.conversationId ||
        stored.senderId !== message.senderId ||
        stored.body !== message.body
      )
        throw err;
      return stored;
    }
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
