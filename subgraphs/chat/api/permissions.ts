import { allow } from 'graphql-shield';
import { isSignedIn } from '../../../foundation/permissions.js';

/**
 * chatPermissions are the contract's "Who may do what" for chat. Who may read
 * a given conversation (its customer and provider, admins) is the business
 * layer's rule; reference resolution and Order.conversations apply it too.
 */
export const chatPermissions = {
  Query: { conversation: isSignedIn },
  Conversation: allow,
  Order: { id: allow, conversations: isSignedIn },
  User: allow,
};
