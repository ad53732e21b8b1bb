import { allow } from 'graphql-shield';
import { isSignedIn } from '../../../foundation/permissions.js';

/**
 * orderPermissions are the contract's "Who may do what" for orders. Whether a
 * signed-in user may see a given order is the business layer's rule (an order
 * one may not see is NOT_FOUND); reference resolution applies it too.
 */
export const orderPermissions = {
  Query: { order: isSignedIn },
  Order: allow,
  User: allow,
  Service: allow,
};
