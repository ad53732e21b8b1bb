import { allow, or, rule } from '../../../foundation/graphql/shield.js';
import {
  denied,
  isAdmin,
  isSignedIn,
  ownerOrAdmin,
  type CallerContext,
} from '../../../foundation/graphql/permissions.js';
import { OWN_ACCOUNT } from './types.js';

/** handedToOwner allows private fields of a user object returned to its owner by sign-up or sign-in. */
const handedToOwner = rule('handedToOwner', { cache: 'no_cache' })(
  (parent: Record<symbol, unknown>) => parent[OWN_ACCOUNT] === true,
);

/** isOwner allows the user the object is, and nobody else (admins included: sessions are private). */
const isOwner = rule('userOwner', { cache: 'no_cache' })((parent: { id: string }, _args, ctx: CallerContext) =>
  ctx.caller.viewer && ctx.caller.viewer.id === parent.id ? true : denied(ctx),
);

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
    requestSignInLink: allow,
    signInWithLink: allow,
    revokeSession: isSignedIn,
    logout: isSignedIn,
    changePassword: isSignedIn,
    updateProfile: isSignedIn,
    assignRole: isAdmin,
    revokeRole: isAdmin,
  },
  User: {
    '*': allow,
    email: or(
      handedToOwner,
      ownerOrAdmin('userEmail', (user: { id: string }) => user.id),
    ),
    sessions: isOwner,
  },
  Session: allow,
  AuthPayload: allow,
  UserConnection: allow,
  UserEdge: allow,
  PageInfo: allow,
};
