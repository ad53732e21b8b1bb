import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { serviceUrl } from '../../contracts/services.js';
import {
  loadSettings,
  maskSecrets,
  nonNegativeIntSchema,
  positiveIntSchema,
  setting,
} from '../../foundation/service/config.js';
import { runSubgraph, subgraphSettings, withPassword } from '../../foundation/service/subgraph-service.js';
import { signedInCaller } from '../../foundation/graphql/permissions.js';
import { chatMigrations } from '../../migrations/chat/index.js';
import { createLoaders, type ChatContext } from './api/context.js';
import { buildChatSchema } from './api/schema.js';
import { ConversationService } from './business/conversations.js';
import { PostgresChatStore, PostgresMessageWakeups } from './store/conversation-store.js';
import { ConversationRow, MessageRow } from './store/entities.js';
import { NatsMessageWakeups } from './store/nats-wakeups.js';
import { HttpOrderDirectory } from './store/order-directory.js';
import { timedDelivery, watchListen } from './metrics.js';
import { Ending, endingAtOnce } from '../../foundation/core/streams.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = {
  ...subgraphSettings('chat', root),
  orderUrl: setting({
    env: 'CHAT_ORDER_URL',
    doc: "the order subgraph's base URL, for its internal routes (order facts)",
    schema: z.url(),
    fallback: serviceUrl('order'),
  }),
  catalogUrl: setting({
    env: 'CHAT_CATALOG_URL',
    doc: "the catalog subgraph's base URL, for its internal routes (skills)",
    schema: z.url(),
    fallback: serviceUrl('catalog'),
  }),
  broker: setting({
    env: 'CHAT_BROKER',
    doc: 'how chat processes tell each other of new messages: postgres (LISTEN/NOTIFY on its own database) or nats (a NATS JetStream stream)',
    schema: z.enum(['postgres', 'nats']),
    fallback: 'postgres',
  }),
  natsUrl: setting({
    env: 'CHAT_NATS_URL',
    doc: 'the NATS server(s), comma-separated, when CHAT_BROKER is nats',
    schema: z.string().min(1),
    fallback: 'nats://127.0.0.1:4222',
  }),
  natsStream: setting({
    env: 'CHAT_NATS_STREAM',
    doc: 'the JetStream stream of message wake-ups (made when missing), when CHAT_BROKER is nats',
    schema: z.string().regex(/^[A-Za-z0-9_-]+$/),
    fallback: 'fixup_chat',
  }),
  natsRelayMs: setting({
    env: 'CHAT_NATS_RELAY_MS',
    doc: 'when CHAT_BROKER is nats: how often each chat process publishes the announcements of messages left unpublished (their process stopped between commit and publication), and how old they must be',
    schema: positiveIntSchema,
    fallback: '1000',
  }),
  keptConversations: setting({
    env: 'CHAT_KEPT_CONVERSATIONS',
    doc: "conversations kept in memory once read (their order, customer and provider never change: the runtime role may update only a conversation's last position), so sending a message reads none; 0 reads them every time",
    schema: nonNegativeIntSchema.max(1_000_000),
    fallback: '10000',
  }),
  messageWriters: setting({
    env: 'CHAT_MESSAGE_WRITERS',
    doc: 'statements adding messages that run at once (without the NATS broker); messages sent while all are busy wait and go together in the next one, with one commit (group commit)',
    schema: positiveIntSchema.max(64),
    fallback: '2',
  }),
  messagesPerStatement: setting({
    env: 'CHAT_MESSAGES_PER_STATEMENT',
    doc: 'messages one statement adds at most, when messages wait for a writer (CHAT_MESSAGE_WRITERS)',
    schema: positiveIntSchema.max(1000),
    fallback: '64',
  }),
  messagesWaiting: setting({
    env: 'CHAT_MESSAGES_WAITING_MAX',
    doc: 'messages waiting for a writer (CHAT_MESSAGE_WRITERS) at most; one more is refused at once with SERVICE_UNAVAILABLE (the database is slow or down), not queued without end',
    schema: positiveIntSchema.max(100_000),
    fallback: '1000',
  }),
  resumeMarginMs: setting({
    env: 'CHAT_RESUME_MARGIN_MS',
    doc: 'when the gateway resumes a subscription that had delivered nothing yet, messages sent up to this long before it started are sent too (clock differences, transactions in flight)',
    schema: z.coerce.number().int().min(0).max(60000),
    fallback: '1000',
  }),
  internalTimeoutMs: setting({
    env: 'CHAT_INTERNAL_TIMEOUT_MS',
    doc: 'longest one internal call to order or catalog may take',
    schema: positiveIntSchema,
    fallback: '3000',
  }),
};
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup chat subgraph');

await runSubgraph<ChatContext>({
  name: 'chat',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [ConversationRow, MessageRow],
  outbox: true,
  migrations: chatMigrations,
  async wire(dataSource, logger, _trust, internal) {
    // With NATS, the process that commits a message announces it; with PostgreSQL, a trigger NOTIFYs on commit.
    const wakeups =
      settings.broker === 'nats'
        ? new NatsMessageWakeups(settings.natsUrl, settings.natsStream, logger, dataSource, settings.natsRelayMs)
        : new PostgresMessageWakeups(withPassword(settings.dbUrl, settings.dbPasswordFile), logger);
    await wakeups.start();
    watchListen(wakeups);
    const chat = new ConversationService(
      new PostgresChatStore(dataSource, {
        announcements: settings.broker === 'nats',
        keptConversations: settings.keptConversations,
        messageWriters: settings.messageWriters,
        messagesPerStatement: settings.messagesPerStatement,
        messagesWaiting: settings.messagesWaiting,
      }),
      new HttpOrderDirectory(settings.orderUrl, settings.catalogUrl, {
        credentials: internal,
        timeoutMs: settings.internalTimeoutMs,
      }),
      wakeups instanceof NatsMessageWakeups ? wakeups : undefined,
    );
    return {
      schema: await buildChatSchema(chat),
      context: async (caller, scope) => ({
        scope,
        caller,
        loaders: createLoaders(chat),
        follow: async (conversationId, after) => {
          const ending = new Ending();
          const stream = await chat.follow(conversationId, after, signedInCaller(caller), wakeups, {
            since: scope.resumeSince === undefined ? undefined : new Date(scope.resumeSince - settings.resumeMarginMs),
            ending,
          });
          return endingAtOnce(timedDelivery(stream), ending);
        },
      }),
      subscriptions: true,
      stop: () => wakeups.close(),
    };
  },
});
