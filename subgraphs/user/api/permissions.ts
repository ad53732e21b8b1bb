import { allow, or, rule } from 'graphql-shield';
import { isAdmin, isSignedIn, ownerOrAdmin } from '../../../foundation/permissions.js';
import { OWN_ACCOUNT } from './types.js';

/** handedToOwner allows private fields of a user object returned to its owner by sign-up or sign-in. */
const handedToOwner = rule('handedToOwner', { cache: 'no_cache' })((parent: Record<symbol, unknown>) => parent[OWN_ACCOUNT] === true);

/** userPermissions are the contract's "Who may do what" for the user subgraph. */
export const userPermissions = {
  Query: { me: isSignedIn, users: isAdmin },
  Mutation: {
    register: allow,
    login: allow,
    refreshSession: allow,
    requestPasswordReset: allow,
    resetPassword: allow,
    verifyEmail: allow,
    logout: isSignedIn,
    changePassword: isSignedIn,
    updateProfile: isSignedIn,
    assignRole: isAdmin,
    revokeRole: isAdmin,
  },
  User: { '*': allow, email: or(handedToOwner, ownerOrAdmin('userEmail', (user: { id: string }) => user.id)) },
  AuthPayload: allow,
  UserConnection: allow,
  UserEdge: allow,
  PageInfo: allow,
};
