import { connect, DeliverPolicy, Events, nanos, StorageType, StringCodec, type ConsumerMessages, type JetStreamClient, type NatsConnection } from 'nats';
import type { Logger } from '../../../foundation/telemetry/logger.js';
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
 * each wake-up, so a lost or repeated wake-up delays or costs a read, never
 * loses or repeats a message. After a reconnection every follower is woken,
 * to read whatever it missed meanwhile.
 */
export class NatsMessageWakeups implements MessageWakeups, MessageAnnouncer {
  private readonly listeners = new WakeupListeners();
  private connection: NatsConnection | undefined;
  private jetstream: JetStreamClient | undefined;
  private messages: ConsumerMessages | undefined;

  /** connected tells whether the NATS connection is up (false while the client reconnects). */
  get connected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed();
  }

  constructor(
    private readonly url: string,
    private readonly stream: string,
    private readonly logger: Logger,
  ) {}

  /** start connects, makes the stream when missing (ids kept an hour), and starts reading new wake-ups. */
  async start(): Promise<void> {
    const connection = await connect({ servers: this.url, name: 'fixup-chat', maxReconnectAttempts: -1 });
    this.connection = connection;
    const manager = await connection.jetstreamManager();
    try {
      await manager.streams.info(this.stream);
    } catch {
      await manager.streams.add({ name: this.stream, subjects: [`${this.stream}.messages.>`], max_age: nanos(60 * 60 * 1000), storage: StorageType.File });
    }
    this.jetstream = connection.jetstream();
    const consumer = await this.jetstream.consumers.get(this.stream, { filterSubjects: `${this.stream}.messages.>`, deliver_policy: DeliverPolicy.New });
    // One subject filter, not a list: servers before NATS 2.10 take one only.
    this.messages = await consumer.consume();
    void (async () => {
      for await (const message of this.messages!) {
        this.listeners.wake(codec.decode(message.data));
      }
    })().catch((err) => this.logger.error({ err }, 'NATS wake-ups stopped'));
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === Events.Disconnect) this.logger.warn({ url: this.url }, 'NATS connection lost; reconnecting');
        if (status.type === Events.Reconnect) {
          this.listeners.wakeAll();
        }
      }
    })();
  }

  /** announce publishes that a message was committed; JetStream acknowledges it once stored. */
  async announce(conversationId: string, position: number): Promise<void> {
    await this.jetstream!.publish(`${this.stream}.messages.${conversationId}`, codec.encode(encodeMessageWakeup({ conversationId, position })));
  }

  listen(conversationId: string, wake: (position: number) => void): () => void {
    return this.listeners.listen(conversationId, wake);
  }

  async close(): Promise<void> {
    this.messages?.stop();
    await this.connection?.drain().catch(() => {});
  }
}
