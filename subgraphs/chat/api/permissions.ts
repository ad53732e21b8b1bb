import { allow } from '../../../foundation/graphql/shield.js';
import { isSignedIn } from '../../../foundation/graphql/permissions.js';

/**
 * chatPermissions are the contract's "Who may do what" for chat. Who may read
 * or send in a given conversation (its customer and provider; admins read
 * only) and who may open one are the business layer's rules; reference
 * resolution and Order.conversations apply them too. messageAdded checks the
 * same rules when the subscription starts.
 */
export const chatPermissions = {
  Query: { conversation: isSignedIn },
  Mutation: { openConversation: isSignedIn, sendMessage: isSignedIn },
  Subscription: { messageAdded: isSignedIn },
  Conversation: allow,
  Message: allow,
  MessageConnection: allow,
  MessageEdge: allow,
  PageInfo: allow,
  Order: { id: allow, conversations: isSignedIn },
  User: allow,
};
