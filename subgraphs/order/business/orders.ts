import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../../../foundation/core/errors.js';
import type { Caller, SignedInCaller, Viewer } from '../../../contracts/caller.js';
import type { OrderStatus } from '../../../contracts/internal-routes.js';
import { newId } from '../../../foundation/core/ids.js';
import type { Page } from '../../../foundation/core/pagination.js';

/** OrderStatus is where an order is in its workflow (contracts/internal-routes.ts: chat reads it too). */
export type { OrderStatus } from '../../../contracts/internal-routes.js';

/** OfferStatus is where an offer is in its workflow. */
export type OfferStatus = 'PENDING' | 'ACCEPTED' | 'REJECTED' | 'WITHDRAWN';

/** Order is a customer's request for a service. */
export interface Order {
  id: string;
  customerId: string;
  serviceId: string;
  description: string;
  status: OrderStatus;
  acceptedOfferId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * OrderView is an order as one caller may see it. `limited` marks the view an
 * offer's provider has of an order they may no longer see in full (another
 * offer won, or the skill was dropped): its id, status and service only.
 */
export type OrderView = Order & { limited?: true };

/** Offer is a provider's price for an order. */
export interface Offer {
  id: string;
  orderId: string;
  providerId: string;
  priceCents: number;
  currency: string;
  message: string | null;
  status: OfferStatus;
  createdAt: Date;
}

/**
 * ORDER_MOVES and OFFER_MOVES are the workflow as a state machine: the only
 * transitions there are. Anything else is a CONFLICT naming the current state.
 */
export const ORDER_MOVES: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  OPEN: ['ACCEPTED', 'CANCELLED'],
  ACCEPTED: ['COMPLETED', 'CANCELLED'],
  COMPLETED: [],
  CANCELLED: [],
};
export const OFFER_MOVES: Readonly<Record<OfferStatus, readonly OfferStatus[]>> = {
  PENDING: ['ACCEPTED', 'REJECTED', 'WITHDRAWN'],
  ACCEPTED: [],
  REJECTED: [],
  WITHDRAWN: [],
};

/** moveOrder checks an order transition; it throws CONFLICT when the order's state does not allow it. */
export function moveOrder(order: Order, to: OrderStatus): OrderStatus {
  if (!ORDER_MOVES[order.status].includes(to))
    throw new ConflictError(`The order is ${order.status} and cannot become ${to}`);
  return to;
}

/** moveOffer checks an offer transition; it throws CONFLICT when the offer's state does not allow it. */
export function moveOffer(offer: Offer, to: OfferStatus): OfferStatus {
  if (!OFFER_MOVES[offer.status].includes(to))
    throw new ConflictError(`The offer is ${offer.status} and cannot become ${to}`);
  return to;
}

/** OrderPosition is a place in a newest-first list of orders or offers. */
export interface Position {
  createdAt: Date;
  id: string;
}

/** OrderTx is one transaction of the order store; changes and their audit events commit together. */
export interface OrderTx {
  insertOrder(order: Order): Promise<void>;
  /** orderForUpdate locks the order until the transaction ends, serializing changes to it and its offers. */
  orderForUpdate(id: string): Promise<Order | null>;
  offerForUpdate(id: string): Promise<Offer | null>;
  setOrderStatus(id: string, status: OrderStatus, acceptedOfferId?: string): Promise<void>;
  /** insertOffer throws ConflictError when the provider already has a pending offer on the order. */
  insertOffer(offer: Offer): Promise<void>;
  /** offerCount counts the provider's offers on the order, withdrawn and rejected ones included. */
  offerCount(orderId: string, providerId: string): Promise<number>;
  setOfferStatus(id: string, status: OfferStatus): Promise<void>;
  /** rejectPendingOffers rejects every pending offer of the order but `except`. */
  rejectPendingOffers(orderId: string, except: string | null): Promise<number>;
  record(entry: AuditEntry): Promise<void>;
}

/** OrderStore is the storage the order workflow needs; the store layer implements it. */
export interface OrderStore {
  transaction<T>(caller: Caller, fn: (tx: OrderTx) => Promise<T>): Promise<T>;
  ordersByIds(ids: readonly string[]): Promise<Order[]>;
  offersByIds(ids: readonly string[]): Promise<Offer[]>;
  /**
   * offersOfOrders gives each order's offers, oldest first; with perOrder, only that many of each; with providerId,
   * only that provider's (the page is taken after that filter).
   */
  offersOfOrders(orderIds: readonly string[], perOrder?: number, providerId?: string): Promise<Offer[]>;
  /** The list queries return up to limit + 1 rows after `after`, newest first. */
  ordersOfCustomer(
    customerId: string,
    status: OrderStatus | undefined,
    limit: number,
    after: Position | undefined,
  ): Promise<Order[]>;
  offersOfProvider(providerId: string, limit: number, after: Position | undefined): Promise<Offer[]>;
  openOrdersForServices(
    serviceIds: readonly string[],
    excludeCustomer: string,
    limit: number,
    after: Position | undefined,
  ): Promise<Order[]>;
}

/** CatalogFacts is what the workflow must know from the catalog subgraph, which owns services and skills. */
export interface CatalogFacts {
  /**
   * skillsOf lists the service ids the provider offers, as of the caller's view of the catalog (a copy kept on the
   * catalog's feed may answer); fresh asks the catalog itself, for a write's check.
   */
  skillsOf(providerId: string, caller: Caller, options?: { fresh?: boolean }): Promise<readonly string[]>;
  serviceExists(serviceId: string, caller: Caller): Promise<boolean>;
}

/**
 * OrderFeed tells every gateway at once that an order's status, or the offer it accepted, changed (the order
 * subgraph's change feed, whose events a trigger on `orders` writes with each such change): the gateways drop what
 * they kept of that order for their callers (its status, and whether the caller may see it).
 */
export interface OrderFeed {
  /**
   * publish sends the events committed so far to the feed's followers; the answer then names the feed's position. It
   * never rejects: a mutation that committed is not failed for a feed that could not send (the next publish does).
   */
  publish(): Promise<void>;
}

/** NewOrder is what a customer asks for. */
export interface NewOrder {
  serviceId: string;
  description: string;
}

/** NewOffer is what a provider proposes. */
export interface NewOffer {
  orderId: string;
  priceCents: number;
  currency: string;
  message: string | null;
}

/**
 * DEFAULT_MAX_OFFERS_PER_PROVIDER bounds how many offers one provider may ever
 * make on one order, withdrawn ones included, so that submitting and
 * withdrawing cannot go on without end (each one is stored and audited).
 */
export const DEFAULT_MAX_OFFERS_PER_PROVIDER = 3;

/** MAX_PRICE_CENTS is the largest price an offer may name (one million in the currency's unit). */
export const MAX_PRICE_CENTS = 100_000_000;
const MAX_DESCRIPTION = 4000;
const MAX_MESSAGE = 2000;
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

function isAdmin(viewer: Viewer | null): boolean {
  return !!viewer?.roles.includes('ADMIN');
}

/**
 * OrderService holds the order workflow: customers order, providers who have
 * the skill offer, the customer accepts one, and the order is completed or
 * cancelled. Each change locks the order row, checks the move against the
 * state machine, and writes the change and its audit event in one transaction;
 * a change of an order's status or accepted offer is published on the order
 * feed before the answer.
 */
export class OrderService {
  constructor(
    private readonly store: OrderStore,
    private readonly catalog: CatalogFacts,
    private readonly feed: OrderFeed,
    private readonly maxOffersPerProvider = DEFAULT_MAX_OFFERS_PER_PROVIDER,
  ) {}

  /** createOrder opens an order for a service that exists. */
  async createOrder(input: NewOrder, caller: SignedInCaller): Promise<Order> {
    const viewer = caller.viewer;
    const description = input.description.trim();
    if (description.length < 1 || description.length > MAX_DESCRIPTION) {
      throw new InvalidInputError('input.description', `input.description must be 1 to ${MAX_DESCRIPTION} characters`);
    }
    if (!(await this.catalog.serviceExists(input.serviceId, caller)))
      throw new NotFoundError('Service', input.serviceId);
    const now = new Date();
    const order: Order = {
      id: newId(),
      customerId: viewer.id,
      serviceId: input.serviceId,
      description,
      status: 'OPEN',
      acceptedOfferId: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.transaction(caller, async (tx) => {
      await tx.insertOrder(order);
      await tx.record({
        action: 'order.created',
        actorId: viewer.id,
        targetType: 'Order',
        targetId: order.id,
        metadata: { serviceId: order.serviceId },
      });
    });
    return (await this.store.ordersByIds([order.id]))[0]!;
  }

  /** order loads one order the caller may see, or fails with NOT_FOUND. */
  async order(id: string, caller: Caller): Promise<Order> {
    const [order] = await this.store.ordersByIds([id]);
    if (!order || !(await this.maySee(order, caller))) throw new NotFoundError('Order', id);
    return order;
  }

  /**
   * maySee is the contract's rule for seeing an order: its customer; any
   * provider while it is OPEN and its service is among their skills; the
   * provider of its accepted offer; admins.
   */
  async maySee(
    order: Order,
    caller: Caller,
    loadOffer: (id: string) => Promise<Offer | null> = this.loadOffer,
  ): Promise<boolean> {
    const viewer = caller.viewer;
    if (!viewer) return false;
    if (viewer.id === order.customerId || isAdmin(viewer)) return true;
    if (!viewer.roles.includes('PROVIDER')) return false;
    if (order.acceptedOfferId && (await loadOffer(order.acceptedOfferId))?.providerId === viewer.id) return true;
    return order.status === 'OPEN' && (await this.catalog.skillsOf(viewer.id, caller)).includes(order.serviceId);
  }

  /**
   * orderOfOffer is what the caller may see of an offer's order: the whole
   * order under the rules of `order(id)`; for the offer's provider who may not
   * see it any more, a limited view (id, status, service); for anyone else
   * NOT_FOUND.
   */
  async orderOfOffer(
    offer: Offer,
    order: Order,
    caller: Caller,
    loadOffer: (id: string) => Promise<Offer | null> = this.loadOffer,
  ): Promise<OrderView> {
    if (await this.maySee(order, caller, loadOffer)) return order;
    if (caller.viewer && caller.viewer.id === offer.providerId) return { ...order, limited: true };
    throw new NotFoundError('Order', order.id);
  }

  /**
   * offersVisibleTo says what the caller may see of an order's offers: its customer and admins all, anyone else signed
   * in their own, nobody else none.
   */
  offersVisibleTo(order: Order, viewer: Viewer | null): 'all' | 'own' | 'none' {
    if (!viewer) return 'none';
    if (viewer.id === order.customerId || isAdmin(viewer)) return 'all';
    return 'own';
  }

  /** submitOffer adds a provider's pending offer to an OPEN order whose service is among their skills. */
  async submitOffer(input: NewOffer, caller: SignedInCaller): Promise<Offer> {
    const viewer = caller.viewer;
    if (!Number.isInteger(input.priceCents) || input.priceCents < 1 || input.priceCents > MAX_PRICE_CENTS) {
      throw new InvalidInputError(
        'input.priceCents',
        `input.priceCents must be a whole number from 1 to ${MAX_PRICE_CENTS}`,
      );
    }
    const currency = input.currency.toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency) || !CURRENCIES.has(currency))
      throw new InvalidInputError('input.currency', 'input.currency must be an ISO 4217 code such as EUR');
    const message = input.message?.trim() || null;
    if (message && message.length > MAX_MESSAGE)
      throw new InvalidInputError('input.message', `input.message must be at most ${MAX_MESSAGE} characters`);
    const skills = await this.catalog.skillsOf(viewer.id, caller, { fresh: true });
    const offer: Offer = {
      id: newId(),
      orderId: input.orderId,
      providerId: viewer.id,
      priceCents: input.priceCents,
      currency,
      message,
      status: 'PENDING',
      createdAt: new Date(),
    };
    await this.store.transaction(caller, async (tx) => {
      const order = await tx.orderForUpdate(input.orderId);
      // An order for a service outside the provider's skills does not exist for them.
      if (!order || !skills.includes(order.serviceId)) throw new NotFoundError('Order', input.orderId);
      if (order.customerId === viewer.id) throw new ForbiddenError('You cannot offer on your own order');
      if (order.status !== 'OPEN')
        throw new ConflictError(`The order is ${order.status}: offers are taken only while it is OPEN`);
      // The order row is locked, so two racing submissions cannot both pass this count.
      if ((await tx.offerCount(order.id, viewer.id)) >= this.maxOffersPerProvider) {
        throw new ConflictError(
          `You have made ${this.maxOffersPerProvider} offers on this order, withdrawn ones included: no more are taken`,
        );
      }
      await tx.insertOffer(offer);
      await tx.record({
        action: 'offer.submitted',
        actorId: viewer.id,
        targetType: 'Offer',
        targetId: offer.id,
        metadata: { orderId: order.id, priceCents: offer.priceCents, currency },
      });
    });
    return (await this.store.offersByIds([offer.id]))[0]!;
  }

  /** withdrawOffer takes back a provider's own pending offer. */
  async withdrawOffer(offerId: string, caller: SignedInCaller): Promise<Offer> {
    const viewer = caller.viewer;
    const [found] = await this.store.offersByIds([offerId]);
    if (!found || found.providerId !== viewer.id) throw new NotFoundError('Offer', offerId);
    await this.store.transaction(caller, async (tx) => {
      // Order first, then offer: the same lock order as acceptOffer, so the two never deadlock.
      await tx.orderForUpdate(found.orderId);
      const offer = (await tx.offerForUpdate(offerId))!;
      await tx.setOfferStatus(offer.id, moveOffer(offer, 'WITHDRAWN'));
      await tx.record({
        action: 'offer.withdrawn',
        actorId: viewer.id,
        targetType: 'Offer',
        targetId: offer.id,
        metadata: { orderId: offer.orderId },
      });
    });
    return (await this.store.offersByIds([offerId]))[0]!;
  }

  /**
   * acceptOffer moves the order to ACCEPTED, the offer to ACCEPTED and every
   * other pending offer to REJECTED, all or nothing. The order row is locked
   * first, so of two racing accepts one wins and the other sees the order
   * ACCEPTED and gets CONFLICT.
   */
  async acceptOffer(offerId: string, caller: SignedInCaller): Promise<Order> {
    const viewer = caller.viewer;
    const [found] = await this.store.offersByIds([offerId]);
    if (!found) throw new NotFoundError('Offer', offerId);
    await this.store.transaction(caller, async (tx) => {
      const order = await tx.orderForUpdate(found.orderId);
      if (!order) throw new NotFoundError('Offer', offerId);
      if (order.customerId !== viewer.id) {
        // Whoever may know the offer exists (its provider, or anyone who may see its order) is refused, not misled.
        if (found.providerId === viewer.id || (await this.maySee(order, caller)))
          throw new ForbiddenError("Only the order's customer may accept an offer");
        throw new NotFoundError('Offer', offerId);
      }
      const offer = (await tx.offerForUpdate(offerId))!;
      const orderStatus = moveOrder(order, 'ACCEPTED');
      const offerStatus = moveOffer(offer, 'ACCEPTED');
      await tx.setOfferStatus(offer.id, offerStatus);
      await tx.rejectPendingOffers(order.id, offer.id);
      await tx.setOrderStatus(order.id, orderStatus, offer.id);
      await tx.record({
        action: 'offer.accepted',
        actorId: viewer.id,
        targetType: 'Offer',
        targetId: offer.id,
        metadata: { orderId: order.id, providerId: offer.providerId },
      });
    });
    // Published before the answer, which names the feed's position: gateways drop what they kept of this order first.
    await this.feed.publish();
    return (await this.store.ordersByIds([found.orderId]))[0]!;
  }

  /** completeOrder marks an ACCEPTED order done (its customer). */
  completeOrder(orderId: string, caller: SignedInCaller): Promise<Order> {
    return this.finish(orderId, 'COMPLETED', 'order.completed', caller);
  }

  /** cancelOrder cancels an OPEN or ACCEPTED order (its customer); pending offers are rejected. */
  cancelOrder(orderId: string, caller: SignedInCaller): Promise<Order> {
    return this.finish(orderId, 'CANCELLED', 'order.cancelled', caller);
  }

  /** ordersOf lists a customer's orders, newest first. */
  async ordersOf(
    customerId: string,
    status: OrderStatus | undefined,
    first: number,
    after: Position | undefined,
  ): Promise<Page<Order>> {
    return page(await this.store.ordersOfCustomer(customerId, status, first, after), first, after);
  }

  /** offersOf lists a provider's offers, newest first. */
  async offersOf(providerId: string, first: number, after: Position | undefined): Promise<Page<Offer>> {
    return page(await this.store.offersOfProvider(providerId, first, after), first, after);
  }

  /**
   * matchingOrders lists OPEN orders, newest first, for services among the provider's skills (not their own orders).
   */
  async matchingOrders(caller: SignedInCaller, first: number, after: Position | undefined): Promise<Page<Order>> {
    const viewer = caller.viewer;
    const skills = await this.catalog.skillsOf(viewer.id, caller);
    if (skills.length === 0) return { items: [], hasNextPage: false, hasPreviousPage: after !== undefined };
    return page(await this.store.openOrdersForServices(skills, viewer.id, first, after), first, after);
  }

  /** ordersByIds, offersByIds and offersOfOrders load batches (entity references, loaders). */
  ordersByIds(ids: readonly string[]): Promise<Order[]> {
    return this.store.ordersByIds(ids);
  }
  offersByIds(ids: readonly string[]): Promise<Offer[]> {
    return this.store.offersByIds(ids);
  }
  offersOfOrders(orderIds: readonly string[], perOrder?: number, providerId?: string): Promise<Offer[]> {
    return this.store.offersOfOrders(orderIds, perOrder, providerId);
  }

  private readonly loadOffer = async (id: string): Promise<Offer | null> =>
    (await this.store.offersByIds([id]))[0] ?? null;

  private async finish(
    orderId: string,
    to: 'COMPLETED' | 'CANCELLED',
    action: string,
    caller: SignedInCaller,
  ): Promise<Order> {
    const viewer = caller.viewer;
    await this.store.transaction(caller, async (tx) => {
      const order = await tx.orderForUpdate(orderId);
      if (!order || order.customerId !== viewer.id) throw new NotFoundError('Order', orderId);
      await tx.setOrderStatus(order.id, moveOrder(order, to));
      if (to === 'CANCELLED') await tx.rejectPendingOffers(order.id, null);
      await tx.record({
        action,
        actorId: viewer.id,
        targetType: 'Order',
        targetId: order.id,
        metadata: { from: order.status },
      });
    });
    await this.feed.publish();
    return (await this.store.ordersByIds([orderId]))[0]!;
  }
}

function page<T>(rows: T[], first: number, after: Position | undefined): Page<T> {
  return { items: rows.slice(0, first), hasNextPage: rows.length > first, hasPreviousPage: after !== undefined };
}
