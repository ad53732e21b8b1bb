import { type DataSource, type EntityManager, type ObjectLiteral } from 'typeorm';
import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import { ConflictError } from '../../../foundation/core/errors.js';
import type { Caller } from '../../../contracts/caller.js';
import { recordAuditEvent } from '../../../foundation/events/outbox.js';
import { EntityReader, isUniqueViolation, returnedRows } from '../../../foundation/postgres/database.js';
import type { Offer, OfferStatus, Order, OrderStatus, OrderStore, OrderTx, Position } from '../business/orders.js';
import { OfferRow, OrderRow } from './entities.js';

/** toOrder converts a row to the business value. */
export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    customerId: row.customerId,
    serviceId: row.serviceId,
    description: row.description,
    status: row.status as OrderStatus,
    acceptedOfferId: row.acceptedOfferId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** toOffer converts a row to the business value. */
export function toOffer(row: OfferRow): Offer {
  return {
    id: row.id,
    orderId: row.orderId,
    providerId: row.providerId,
    priceCents: row.priceCents,
    currency: row.currency,
    message: row.message,
    status: row.status as OfferStatus,
    createdAt: row.createdAt,
  };
}

/**
 * newestFirst reads the rows that match `where` (its parameters $1…$n) newest first, after a position, one row beyond
 * the page: one statement of fixed text, no query builder per request (TypeORM's built and hydrated each page anew).
 */
function newestFirst<T extends ObjectLiteral>(
  reader: EntityReader<T>,
  alias: string,
  where: string,
  parameters: unknown[],
  limit: number,
  after: Position | undefined,
): Promise<T[]> {
  const n = parameters.length;
  const cursor = after ? ` AND (${alias}.created_at, ${alias}.id) < ($${n + 2}::timestamptz, $${n + 3}::uuid)` : '';
  return reader.rows(`WHERE ${where}${cursor} ORDER BY ${alias}.created_at DESC, ${alias}.id DESC LIMIT $${n + 1}`, [
    ...parameters,
    limit + 1,
    ...(after ? [after.createdAt, after.id] : []),
  ]);
}

class PostgresOrderTx implements OrderTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly caller: Caller,
  ) {}

  async insertOrder(order: Order): Promise<void> {
    await this.manager.insert(OrderRow, {
      id: order.id,
      customerId: order.customerId,
      serviceId: order.serviceId,
      description: order.description,
      status: order.status,
      acceptedOfferId: null,
    });
  }

  async orderForUpdate(id: string): Promise<Order | null> {
    const row = await this.manager.findOne(OrderRow, { where: { id }, lock: { mode: 'pessimistic_write' } });
    return row ? toOrder(row) : null;
  }

  async offerForUpdate(id: string): Promise<Offer | null> {
    const row = await this.manager.findOne(OfferRow, { where: { id }, lock: { mode: 'pessimistic_write' } });
    return row ? toOffer(row) : null;
  }

  async setOrderStatus(id: string, status: OrderStatus, acceptedOfferId?: string): Promise<void> {
    await this.manager.update(OrderRow, { id }, { status, ...(acceptedOfferId ? { acceptedOfferId } : {}) });
  }

  async insertOffer(offer: Offer): Promise<void> {
    try {
      await this.manager.insert(OfferRow, {
        id: offer.id,
        orderId: offer.orderId,
        providerId: offer.providerId,
        priceCents: offer.priceCents,
        currency: offer.currency,
        message: offer.message,
        status: offer.status,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'offers_one_pending_key'))
        throw new ConflictError('You already have a PENDING offer on this order');
      throw err;
    }
  }

  async offerCount(orderId: string, providerId: string): Promise<number> {
    return this.manager.count(OfferRow, { where: { orderId, providerId } });
  }

  async setOfferStatus(id: string, status: OfferStatus): Promise<void> {
    await this.manager.update(OfferRow, { id }, { status });
  }

  async rejectPendingOffers(orderId: string, except: string | null): Promise<number> {
    const rows = returnedRows(
      await this.manager.query(
        `UPDATE offers SET status = 'REJECTED', updated_at = now() WHERE order_id = $1 AND status = 'PENDING' AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING id`,
        [orderId, except],
      ),
    );
    return rows.length;
  }

  async record(entry: AuditEntry): Promise<void> {
    await recordAuditEvent(this.manager, 'order', entry, this.caller);
  }
}

/** PostgresOrderStore is the order subgraph's storage on its own database. */
export class PostgresOrderStore implements OrderStore {
  private readonly orders: EntityReader<OrderRow>;
  private readonly offers: EntityReader<OfferRow>;

  constructor(private readonly dataSource: DataSource) {
    this.orders = new EntityReader(dataSource, OrderRow, 'o');
    this.offers = new EntityReader(dataSource, OfferRow, 'f');
  }

  transaction<T>(caller: Caller, fn: (tx: OrderTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => fn(new PostgresOrderTx(manager, caller)));
  }

  async ordersByIds(ids: readonly string[]): Promise<Order[]> {
    if (ids.length === 0) return [];
    return (await this.orders.rows('WHERE o.id = ANY($1::uuid[])', [ids])).map(toOrder);
  }

  async offersByIds(ids: readonly string[]): Promise<Offer[]> {
    if (ids.length === 0) return [];
    return (await this.offers.rows('WHERE f.id = ANY($1::uuid[])', [ids])).map(toOffer);
  }

  async offersOfOrders(orderIds: readonly string[], perOrder?: number, providerId?: string): Promise<Offer[]> {
    if (orderIds.length === 0) return [];
    if (perOrder === undefined) {
      return (
        await this.offers.rows(
          `WHERE f.order_id = ANY($1::uuid[]) ${providerId ? 'AND f.provider_id = $2' : ''} ORDER BY f.created_at, f.id`,
          providerId ? [orderIds, providerId] : [orderIds],
        )
      ).map(toOffer);
    }
    // The first perOrder offers of each order (of the provider's, when given: filtered before the page is taken), in
    // one statement for the whole batch: each order's from its own index range. `id IN (…row_number() over the
    // orders' offers…)` had PostgreSQL hash every offer in the table (a sequential scan of 50,180 rows, 6 ms, for the
    // dashboard's 20 orders; docs/performance.md, lever 18).
    const own = providerId ? 'AND f.provider_id = $3' : '';
    const rows = await this.dataSource.query<OfferRow[]>(
      `SELECT ${this.offers.columns}
         FROM unnest($1::uuid[]) AS o(id)
        CROSS JOIN LATERAL (
          SELECT * FROM offers f WHERE f.order_id = o.id ${own} ORDER BY f.created_at, f.id LIMIT $2) f
        ORDER BY f.created_at, f.id`,
      [[...new Set(orderIds)], perOrder, ...(providerId ? [providerId] : [])],
    );
    return rows.map(toOffer);
  }

  async ordersOfCustomer(
    customerId: string,
    status: OrderStatus | undefined,
    limit: number,
    after: Position | undefined,
  ): Promise<Order[]> {
    const rows = status
      ? await newestFirst(this.orders, 'o', 'o.customer_id = $1 AND o.status = $2', [customerId, status], limit, after)
      : await newestFirst(this.orders, 'o', 'o.customer_id = $1', [customerId], limit, after);
    return rows.map(toOrder);
  }

  async offersOfProvider(providerId: string, limit: number, after: Position | undefined): Promise<Offer[]> {
    return (await newestFirst(this.offers, 'f', 'f.provider_id = $1', [providerId], limit, after)).map(toOffer);
  }

  async openOrdersForServices(
    serviceIds: readonly string[],
    excludeCustomer: string,
    limit: number,
    after: Position | undefined,
  ): Promise<Order[]> {
    if (serviceIds.length === 0) return [];
    // The newest of each service from its own index range, then the newest of those: an index scan of at most
    // limit + 1 rows per service. `service_id IN (…) ORDER BY created_at` cannot use the index's order across
    // services, so it read and sorted every open order of popular services (8,606 rows, 9.7 ms, for six services).
    const cursor = after ? 'AND (o.created_at, o.id) < ($4::timestamptz, $5::uuid)' : '';
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT ${this.orders.columns}
         FROM unnest($1::uuid[]) AS s(service_id)
        CROSS JOIN LATERAL (
          SELECT * FROM orders o
           WHERE o.status = 'OPEN' AND o.service_id = s.service_id AND o.customer_id <> $2 ${cursor}
           ORDER BY o.created_at DESC, o.id DESC
           LIMIT $3) o
        ORDER BY o.created_at DESC, o.id DESC
        LIMIT $3`,
      [[...new Set(serviceIds)], excludeCustomer, limit + 1, ...(after ? [after.createdAt, after.id] : [])],
    );
    return rows.map(toOrder);
  }
}
