import {
  connect,
  DeliverPolicy,
  Events,
  nanos,
  StorageType,
  StringCodec,
  type ConsumerMessages,
  type JetStreamClient,
  type NatsConnection,
} from 'nats';
import type { DataSource } from 'typeorm';
import type { Logger } from '../../../foundation/telemetry/logger.js';
import { returnedRows } from '../../../foundation/postgres/database.js';
import { encodeMessageWakeup } from '../../../contracts/chat-events.js';
import type { MessageAnnouncer, MessageWakeups } from '../business/conversations.js';
import { WakeupListeners } from './wakeup-listeners.js';

const codec = StringCodec();

/**
 * NatsMessageWakeups fans chat's wake-ups out through a NATS JetStream stream
 * instead of PostgreSQL LISTEN/NOTIFY: the process that commits a message
 * publishes its ids (`conversationId:position`, never its body) on
 * `<stream>.messages.<conversationId>`, and every chat process reads the
 * stream with an ordered consumer from the moment it starts. The message
 * table stays the queue: a follower reads what follows its last position on
 * each wake-up (or is handed the message its own process committed, when it
 * is the next one it lacks and the furthest any wake-up named), so a lost or
 * repeated wake-up delays or costs a read, never loses or repeats a message.
 * After a reconnection every follower is woken, to read whatever it missed
 * meanwhile.
 *
 * No announcement is lost to a process that dies between its commit and its
 * publication: each message is recorded in `message_announcements` in its
 * own transaction and the row removed once published; every process
 * publishes, every `relayMs`, the rows older than that (skipping rows another
 * process holds). Each publication carries the message's ids as its JetStream
 * message id, so the stream keeps one of two publications of the same
 * message (within its duplicate window, two minutes).
 */
export class NatsMessageWakeups implements MessageWakeups, MessageAnnouncer {
  private readonly listeners = new WakeupListeners();
  private connection: NatsConnection | undefined;
  private jetstream: JetStreamClient | undefined;
  private messages: ConsumerMessages | undefined;
  private relay: NodeJS.Timeout | undefined;
  private relaying = false;

  /** connected tells whether the NATS connection is up (false while the client reconnects). */
  get connected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed();
  }

  constructor(
    private readonly url: string,
    private readonly stream: string,
    private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly relayMs: number,
  ) {}

  /** start connects, makes the stream when missing (ids kept an hour), and starts reading new wake-ups. */
  async start(): Promise<void> {
    const connection = await connect({ servers: this.url, name: 'fixup-chat', maxReconnectAttempts: -1 });
    this.connection = connection;
    const manager = await connection.jetstreamManager();
    try {
      await manager.streams.info(this.stream);
    } catch {
      await manager.streams.add({
        name: this.stream,
        subjects: [`${this.stream}.messages.>`],
        max_age: nanos(60 * 60 * 1000),
        storage: StorageType.File,
      });
    }
    this.jetstream = connection.jetstream();
    const consumer = await this.jetstream.consumers.get(this.stream, {
      filterSubjects: `${this.stream}.messages.>`,
      deliver_policy: DeliverPolicy.New,
    });
    // One subject filter, not a list: servers before NATS 2.10 take one only.
    this.messages = await consumer.consume();
    void (async () => {
      for await (const message of this.messages!) {
        this.listeners.wake(codec.decode(message.data));
      }
    })().catch((err) => this.logger.error({ err }, 'NATS wake-ups stopped'));
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === Events.Disconnect)
          this.logger.warn({ url: this.url }, 'NATS connection lost; reconnecting');
        if (status.type === Events.Reconnect) {
          this.listeners.wakeAll();
        }
      }
    })();
    this.relay = setInterval(() => void this.publishLeftovers(), this.relayMs);
    this.relay.unref();
  }

  private publish(conversationId: string, position: number): Promise<unknown> {
    const ids = encodeMessageWakeup({ conversationId, position });
    return this.jetstream!.publish(`${this.stream}.messages.${conversationId}`, codec.encode(ids), { msgID: ids });
  }

  /**
   * announce publishes that a message was committed (JetStream acknowledges it
   * once stored) and removes its record. A failure is logged, not thrown: the
   * message is committed, and the record stays for the relay to publish.
   */
  async announce(conversationId: string, position: number): Promise<void> {
    try {
      await this.publish(conversationId, position);
      await this.dataSource.query(`DELETE FROM message_announcements WHERE conversation_id = $1 AND position = $2`, [
        conversationId,
        position,
      ]);
    } catch (err) {
      this.logger.warn({ err, conversationId, position }, 'message announcement not published yet; the relay will');
    }
  }

  /**
   * publishLeftovers publishes the announcements older than relayMs (their process died, or NATS was away) and removes
   * them.
   */
  private async publishLeftovers(): Promise<void> {
    if (this.relaying || !this.jetstream) return;
    this.relaying = true;
    try {
      const published = await this.dataSource.transaction(async (manager) => {
        const rows = returnedRows<{ conversation_id: string; position: string }>(
          await manager.query(
            `SELECT conversation_id, position FROM message_announcements WHERE created_at < now() - make_interval(secs => $1)
             ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
            [this.relayMs / 1000],
          ),
        );
        if (rows.length === 0) return 0;
        await Promise.all(rows.map((r) => this.publish(r.conversation_id, Number(r.position))));
        await manager.query(
          `DELETE FROM message_announcements WHERE (conversation_id, position) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[]))`,
          [rows.map((r) => r.conversation_id), rows.map((r) => r.position)],
        );
        return rows.length;
      });
      if (published > 0)
        this.logger.warn(
          { published },
          'published message announcements left unpublished (a process stopped between commit and publication, or NATS was away)',
        );
    } catch (err) {
      this.logger.warn({ err }, 'message announcement relay failed; retrying');
    } finally {
      this.relaying = false;
    }
  }

  listen(conversationId: string, wake: (position: number) => void): () => void {
    return this.listeners.listen(conversationId, wake);
  }

  async close(): Promise<void> {
    clearInterval(this.relay);
    this.messages?.stop();
    await this.connection?.drain().catch(() => {});
  }
}
