import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../../../foundation/core/errors.js';
import type { Caller, SignedInCaller, Viewer } from '../../../contracts/caller.js';
import type { OrderFacts } from '../../../contracts/internal-routes.js';
import { newId } from '../../../foundation/core/ids.js';
import type { Ending } from '../../../foundation/core/streams.js';

/** Conversation is the chat between an order's customer and one provider. */
export interface Conversation {
  id: string;
  orderId: string;
  customerId: string;
  providerId: string;
  createdAt: Date;
}

/** Message is one line of a conversation; position orders it within the conversation and never goes backwards. */
export interface Message {
  id: string;
  conversationId: string;
  position: number;
  senderId: string;
  body: string;
  sentAt: Date;
}

/** OrderDirectory asks the order and catalog subgraphs what chat must know. */
export interface OrderDirectory {
  orderFacts(orderId: string, caller: Caller): Promise<OrderFacts | null>;
  providerSkills(providerId: string, caller: Caller): Promise<readonly string[]>;
}

/** ChatTx is one transaction of the chat store; changes and their audit events commit together. */
export interface ChatTx {
  /** insertConversation returns the existing conversation when the order already has one with that provider. */
  insertConversation(conversation: Conversation): Promise<{ conversation: Conversation; created: boolean }>;
  record(entry: AuditEntry): Promise<void>;
}

/** ChatStore is the storage chat needs; the store layer implements it. */
export interface ChatStore {
  transaction<T>(caller: Caller, fn: (tx: ChatTx) => Promise<T>): Promise<T>;
  /**
   * addMessage takes the conversation's next position and stores the message there, committed without waiting for
   * any other write of this process but those it may be grouped with (the conversation stays locked until the commit,
   * so positions commit in order); it returns the message as stored, with its position and the database's time.
   */
  addMessage(message: Omit<Message, 'position' | 'sentAt'>): Promise<Message>;
  conversationsByIds(ids: readonly string[]): Promise<Conversation[]>;
  conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]>;
  /** messagesAfter returns up to limit messages after a position, oldest first. */
  messagesAfter(conversationId: string, position: number, limit: number): Promise<Message[]>;
  /** messagesBefore returns up to limit messages before a position (or the newest), newest first. */
  messagesBefore(conversationId: string, position: number | null, limit: number): Promise<Message[]>;
  messagesByIds(ids: readonly string[]): Promise<Message[]>;
  /** lastPositionBefore is the position of the last message sent before a time (0 when none). */
  lastPositionBefore(conversationId: string, before: Date): Promise<number>;
}

/** MessageWakeups tells followers that a conversation has new messages (ids only; messages are read from the store). */
export interface MessageWakeups {
  /** listen calls wake with the position of each new message of the conversation; it returns how to stop. */
  listen(conversationId: string, wake: (position: number) => void): () => void;
}

/**
 * MessageAnnouncer tells every chat process that a message was committed, where the broker is not told by the database
 * itself.
 */
export interface MessageAnnouncer {
  announce(conversationId: string, position: number): Promise<void>;
}

/** MAX_BODY is the longest message, in characters after trimming. */
export const MAX_BODY = 4000;

function isAdmin(viewer: Viewer | null): boolean {
  return !!viewer?.roles.includes('ADMIN');
}

/**
 * SharedPages lets the followers of one conversation that are woken by the same
 * message share one read of the store: a read may be joined only by a follower
 * whose last wake-up (or, before any, its start of listening) came before the
 * read began, so the read sees everything that follower was told of. Ticks
 * order wake-ups and reads within the process; a wake-up arrives only after
 * its message was committed.
 */
class SharedPages {
  private clock = 0;
  private readonly reading = new Map<string, { startedAt: number; page: Promise<Message[]> }>();

  /** tick is the moment now, to compare a wake-up with the start of a read. */
  tick(): number {
    return ++this.clock;
  }

  read(key: string, wokenAt: number, load: () => Promise<Message[]>): Promise<Message[]> {
    const shared = this.reading.get(key);
    // A follower that joined another's read and saw it fail reads for itself: one failure ends one stream, as before.
    if (shared && shared.startedAt > wokenAt) return shared.page.catch(load);
    const entry = { startedAt: this.tick(), page: load() };
    this.reading.set(key, entry);
    const done = () => {
      if (this.reading.get(key) === entry) this.reading.delete(key);
    };
    entry.page.then(done, done);
    return entry.page;
  }
}

/**
 * CommittedHere remembers, per conversation, the last message this process committed (at most MAX_REMEMBERED
 * conversations, the first remembered going first), so that its followers here, woken by that very message, are
 * handed it without reading the store. A follower takes it only when it is the next message it lacks and the furthest
 * any wake-up has named: every message before it was read, and any after it will wake the follower again.
 */
class CommittedHere {
  private readonly last = new Map<string, Message>();
  /** sending counts, per conversation, the sends of this process whose statement has not answered yet. */
  private readonly sending = new Map<string, number>();

  /** begin counts a send under way; its end must follow, with the message once committed. */
  begin(conversationId: string): void {
    this.sending.set(conversationId, (this.sending.get(conversationId) ?? 0) + 1);
  }

  /** end ends a send, remembering its message (never one before the remembered one: sends may answer out of order). */
  end(conversationId: string, message: Message | undefined): void {
    const left = (this.sending.get(conversationId) ?? 1) - 1;
    if (left > 0) this.sending.set(conversationId, left);
    else this.sending.delete(conversationId);
    if (!message) return;
    const known = this.last.get(conversationId);
    if (known && known.position > message.position) return;
    this.last.delete(conversationId);
    if (this.last.size >= MAX_REMEMBERED) this.last.delete(this.last.keys().next().value!);
    this.last.set(conversationId, message);
  }

  /** isSending: a send of this process to the conversation has not answered yet. */
  isSending(conversationId: string): boolean {
    return this.sending.has(conversationId);
  }

  /** at gives the conversation's remembered message when it is at that position. */
  at(conversationId: string, position: number): Message | undefined {
    const message = this.last.get(conversationId);
    return message?.position === position ? message : undefined;
  }
}

/** MAX_REMEMBERED bounds the conversations whose last message sent through this process is remembered. */
const MAX_REMEMBERED = 1000;

/** ConversationService holds chat's rules: who may talk about an order, who may read, and what a message may be. */
export class ConversationService {
  constructor(
    private readonly store: ChatStore,
    private readonly directory: OrderDirectory,
    private readonly announcer?: MessageAnnouncer,
  ) {}

  private readonly pages = new SharedPages();
  private readonly committed = new CommittedHere();

  /**
   * openConversation starts (or returns) the conversation about an order: a
   * provider opens one for an OPEN order whose service is among their skills
   * (no providerId); the order's customer opens one with a provider who
   * offered on it.
   */
  async openConversation(orderId: string, providerId: string | null, caller: SignedInCaller): Promise<Conversation> {
    const viewer = caller.viewer;
    const facts = await this.directory.orderFacts(orderId, caller);
    if (!facts) throw new NotFoundError('Order', orderId);
    let provider: string;
    if (providerId === null) {
      if (!viewer.roles.includes('PROVIDER'))
        throw new InvalidInputError('providerId', 'providerId is required when the customer opens a conversation');
      const skills = await this.directory.providerSkills(viewer.id, caller);
      if (facts.status !== 'OPEN' || !skills.includes(facts.serviceId)) throw new NotFoundError('Order', orderId);
      if (facts.customerId === viewer.id) throw new ForbiddenError('You cannot open a conversation with yourself');
      provider = viewer.id;
    } else {
      if (facts.customerId !== viewer.id) throw new NotFoundError('Order', orderId);
      if (!facts.offerProviderIds.includes(providerId))
        throw new InvalidInputError('providerId', 'providerId has not offered on this order');
      provider = providerId;
    }
    return this.store.transaction(caller, async (tx) => {
      const { conversation, created } = await tx.insertConversation({
        id: newId(),
        orderId,
        customerId: facts.customerId,
        providerId: provider,
        createdAt: new Date(),
      });
      if (created) {
        await tx.record({
          action: 'conversation.opened',
          actorId: viewer.id,
          targetType: 'Conversation',
          targetId: conversation.id,
          metadata: { orderId, providerId: provider },
        });
      }
      return conversation;
    });
  }

  /** conversation loads one conversation the viewer may read, or fails with NOT_FOUND. */
  async conversation(id: string, viewer: Viewer): Promise<Conversation> {
    const [conversation] = await this.store.conversationsByIds([id]);
    if (!conversation || !this.mayRead(conversation, viewer)) throw new NotFoundError('Conversation', id);
    return conversation;
  }

  /** mayRead tells whether the viewer may read a conversation: its customer, its provider, and admins. */
  mayRead(conversation: Conversation, viewer: Viewer | null): boolean {
    return (
      !!viewer && (viewer.id === conversation.customerId || viewer.id === conversation.providerId || isAdmin(viewer))
    );
  }

  /** sendMessage adds a message; only the two participants may send (admins read, never send). */
  async sendMessage(conversationId: string, body: string, caller: SignedInCaller): Promise<Message> {
    const viewer = caller.viewer;
    const text = body.trim();
    if (text.length < 1 || text.length > MAX_BODY)
      throw new InvalidInputError('body', `body must be 1 to ${MAX_BODY} characters after trimming`);
    const conversation = await this.conversation(conversationId, viewer);
    if (viewer.id !== conversation.customerId && viewer.id !== conversation.providerId)
      throw new ForbiddenError('Only the two participants may send messages');
    this.committed.begin(conversation.id);
    let message: Message | undefined;
    try {
      message = await this.store.addMessage({
        id: newId(),
        conversationId: conversation.id,
        senderId: viewer.id,
        body: text,
      });
    } finally {
      this.committed.end(conversation.id, message);
    }
    // Announced once committed: a follower woken earlier would not find the message yet.
    await this.announcer?.announce(message.conversationId, message.position);
    return message;
  }

  /**
   * history returns up to `last` messages before a position (or the newest), oldest first, and whether older ones
   * exist.
   */
  async history(
    conversation: Conversation,
    last: number,
    before: number | null,
  ): Promise<{ items: Message[]; hasPreviousPage: boolean }> {
    const rows = await this.store.messagesBefore(conversation.id, before, last + 1);
    return { items: rows.slice(0, last).reverse(), hasPreviousPage: rows.length > last };
  }

  /** messagesByIds loads a batch of messages. */
  messagesByIds(ids: readonly string[]): Promise<Message[]> {
    return this.store.messagesByIds(ids);
  }

  /** conversationsByIds and conversationsByOrderIds load batches (entity references, loaders). */
  conversationsByIds(ids: readonly string[]): Promise<Conversation[]> {
    return this.store.conversationsByIds(ids);
  }
  conversationsByOrderIds(orderIds: readonly string[]): Promise<Conversation[]> {
    return this.store.conversationsByOrderIds(orderIds);
  }

  /**
   * follow yields a conversation's messages after `after` (every one missed,
   * in order) and then each new one as it is committed, with no gap and no
   * duplicate: it listens before it replays, and every wake-up reads the
   * store for what follows the last message it yielded, unless the message
   * it names was committed by this process and is the next one it lacks
   * (CommittedHere: handed over without a read). Nothing but that position
   * (and at most one such message per conversation for the process) is held
   * in memory for a slow reader: the table is the queue.
   * Without `after`, it starts after the newest message, or, with `since`
   * (a subscription resumed before it delivered anything), after the last
   * message sent before that time, so that nothing committed meanwhile is lost.
   */
  async follow(
    conversationId: string,
    afterMessageId: string | null,
    caller: SignedInCaller,
    wakeups: MessageWakeups,
    options: { since?: Date; pageSize?: number; ending?: Ending } = {},
  ): Promise<AsyncGenerator<Message>> {
    const pageSize = options.pageSize ?? 100;
    // Checked before the stream starts, so that a refusal is the subscription's error, not a broken stream.
    const conversation = await this.conversation(conversationId, caller.viewer);
    let start = 0;
    if (afterMessageId) {
      const [after] = await this.store.messagesByIds([afterMessageId]);
      if (!after || after.conversationId !== conversation.id)
        throw new InvalidInputError('after', 'after is not a message of this conversation');
      start = after.position;
    } else if (options.since) {
      start = await this.store.lastPositionBefore(conversation.id, options.since);
    } else {
      const [newest] = await this.store.messagesBefore(conversation.id, null, 1);
      start = newest?.position ?? 0;
    }
    return this.stream(conversation.id, start, wakeups, pageSize, options.ending);
  }

  /**
   * stream follows a conversation from a position; `ending` ends it, waiting or not (an async generator's own return()
   * waits for its next message).
   */
  private async *stream(
    conversationId: string,
    start: number,
    wakeups: MessageWakeups,
    pageSize: number,
    ending?: Ending,
  ): AsyncGenerator<Message> {
    let last = start;
    let woken = true;
    let notify: (() => void) | undefined;
    let wokenAt = 0;
    /** told is the furthest position a wake-up has named. */
    let told = 0;
    const stop = wakeups.listen(conversationId, (position) => {
      if (position > told) told = position;
      if (position > last) {
        woken = true;
        wokenAt = this.pages.tick();
        notify?.();
      }
    });
    // Listening began before this tick: the first read must not be one that began before it.
    wokenAt = this.pages.tick();
    ending?.onEnd(() => notify?.());
    try {
      for (;;) {
        if (!woken && !ending?.ended) await new Promise<void>((resolve) => (notify = resolve));
        if (ending?.ended) return;
        woken = false;
        notify = undefined;
        for (;;) {
          const from = last;
          // The next message, committed by this process, is the furthest any wake-up named: there is nothing after it
          // to read (a later one's wake-up comes after it), so it is handed over without a read.
          let next = this.committed.at(conversationId, from + 1);
          // Woken by a commit of this process whose answer is not read yet (the wake-up came first): that answer is
          // already here, and is read before anything set for after the pending I/O.
          if (!next && told === from + 1 && this.committed.isSending(conversationId)) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            next = this.committed.at(conversationId, from + 1);
          }
          const page =
            next && told === next.position
              ? [next]
              : await this.pages.read(`${conversationId}\n${from}\n${pageSize}`, wokenAt, () =>
                  this.store.messagesAfter(conversationId, from, pageSize),
                );
          for (const message of page) {
            last = message.position;
            yield message;
          }
          if (page.length < pageSize) {
            // A wake-up of every follower (a broker reconnected: some may have been missed) names no position; once a
            // read has caught up, every later message wakes the follower again, and hand-overs may resume.
            if (told === Number.MAX_SAFE_INTEGER) told = last;
            break;
          }
        }
      }
    } finally {
      ending?.onEnd(undefined);
      stop();
    }
  }
}
