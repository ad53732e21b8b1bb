import { allow, and, rule } from '../../../foundation/graphql/shield.js';
import { NotFoundError } from '../../../foundation/core/errors.js';
import {
  denied,
  hasRole,
  isSignedIn,
  ownerOrAdmin,
  type CallerContext,
} from '../../../foundation/graphql/permissions.js';

/** ownProviderData allows a provider to read their own offers and matching orders. */
const ownProviderData = rule('ownProviderData', { cache: 'no_cache' })(
  (user: { id: string }, _args, ctx: CallerContext) => (ctx.caller.viewer?.id === user.id ? true : denied(ctx)),
);

/**
 * wholeOrder refuses the fields of an order the caller sees only in part (an
 * offer's provider who may no longer see the order): NOT_FOUND, as order(id) says.
 */
const wholeOrder = rule('wholeOrder', { cache: 'no_cache' })((order: { id: string; limited?: true }) =>
  order.limited ? new NotFoundError('Order', order.id) : true,
);

/**
 * orderPermissions are the contract's "Who may do what" for orders. Whether a
 * signed-in user may see or change a given order (its customer; providers with
 * the skill while it is OPEN; the accepted provider; admins) is the business
 * layer's rule: what one may not see is NOT_FOUND.
 */
export const orderPermissions = {
  Query: { order: isSignedIn, me: isSignedIn },
  Mutation: {
    createOrder: hasRole('CUSTOMER'),
    submitOffer: hasRole('PROVIDER'),
    withdrawOffer: hasRole('PROVIDER'),
    acceptOffer: isSignedIn,
    completeOrder: isSignedIn,
    cancelOrder: isSignedIn,
  },
  Order: { '*': wholeOrder, id: allow, status: allow, service: allow },
  Offer: allow,
  OrderConnection: allow,
  OrderEdge: allow,
  OfferConnection: allow,
  OfferEdge: allow,
  PageInfo: allow,
  Service: allow,
  User: {
    id: allow,
    orders: ownerOrAdmin('ownOrders', (user: { id: string }) => user.id),
    offers: and(hasRole('PROVIDER'), ownProviderData),
    matchingOrders: and(hasRole('PROVIDER'), ownProviderData),
  },
};
