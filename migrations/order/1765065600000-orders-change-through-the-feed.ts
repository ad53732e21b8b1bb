import type { MigrationInterface, QueryRunner } from 'typeorm';
import { forEachGrantee } from '../../foundation/postgres/privileges.js';

/**
 * OrdersChangeThroughTheFeed1765065600000 leaves every role but the owner (who runs the migrations) only what the order
 * subgraph writes, whatever default privileges gave them: on `orders`, INSERT and UPDATE of `status`,
 * `accepted_offer_id` and `updated_at` (each change of the first two writes the order feed's event,
 * 1764979200000); on `offers`, INSERT and UPDATE of `status` and `updated_at`; no DELETE or TRUNCATE on either. So an
 * order's customer and service, and an offer's order and provider, never change once made, nor is either removed: what
 * decides who may see an order (its customer, its service, its status, its accepted offer's provider) changes only
 * with an event of the feed, on whose word gateways keep each caller's answer (gateway/caller-entity-cache.ts).
 */
export class OrdersChangeThroughTheFeed1765065600000 implements MigrationInterface {
  name = 'OrdersChangeThroughTheFeed1765065600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(forEachGrantee(['orders', 'offers'], 'REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', true));
    await db.query(
      forEachGrantee(['orders'], 'GRANT UPDATE (status, accepted_offer_id, updated_at) ON %I TO %s', false),
    );
    await db.query(forEachGrantee(['offers'], 'GRANT UPDATE (status, updated_at) ON %I TO %s', false));
  }

  async down(db: QueryRunner): Promise<void> {
    // The schema's default privileges reach new tables only: give these tables' grantees back what the defaults give.
    await db.query(
      forEachGrantee(['orders'], 'REVOKE UPDATE (status, accepted_offer_id, updated_at) ON %I FROM %s', false),
    );
    await db.query(forEachGrantee(['offers'], 'REVOKE UPDATE (status, updated_at) ON %I FROM %s', false));
    await db.query(forEachGrantee(['orders', 'offers'], 'GRANT UPDATE, DELETE ON %I TO %s', false));
  }
}
