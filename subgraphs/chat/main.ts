import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { loadSettings, maskSecrets } from '../../foundation/config.js';
import { runSubgraph, subgraphSettings } from '../../foundation/subgraph-service.js';
import { chatMigrations } from '../../migrations/chat/index.js';
import { createLoaders, type ChatContext } from './api/context.js';
import { buildChatSchema } from './api/schema.js';
import { ConversationService } from './business/conversations.js';
import { PostgresConversationStore } from './store/conversation-store.js';
import { ConversationRow } from './store/entities.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const spec = subgraphSettings('chat', 4004, root);
const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup chat subgraph');

await runSubgraph<ChatContext>({
  name: 'chat',
  settings,
  printable: maskSecrets(spec, settings),
  entities: [ConversationRow],
  migrations: chatMigrations,
  async wire(dataSource) {
    const conversations = new ConversationService(new PostgresConversationStore(dataSource));
    return {
      schema: await buildChatSchema(conversations),
      context: async (caller, scope) => ({ scope, caller, loaders: createLoaders(conversations) }),
    };
  },
});
