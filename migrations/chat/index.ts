import type { MigrationClass } from '../../foundation/postgres/database.js';
import { CreateConversations1732300000000 } from './1732300000000-create-conversations.js';
import { Messages1732400000000 } from './1732400000000-messages.js';
import { MessageAnnouncements1732500000000 } from './1732500000000-message-announcements.js';
import { ConversationsNeverChange1764979200000 } from './1764979200000-conversations-never-change.js';

/** chatMigrations lists the chat database's migrations in the order they run. */
export const chatMigrations: MigrationClass[] = [
  CreateConversations1732300000000,
  Messages1732400000000,
  MessageAnnouncements1732500000000,
  ConversationsNeverChange1764979200000,
];
