import { providerSkillsRoute, servicesRoute } from '../../../contracts/internal-routes.js';
import type { GatewayTrust } from '../../../foundation/auth/identity.js';
import { internalGetRoute } from '../../../foundation/http/internal-calls.js';
import type { RouteHandler } from '../../../foundation/http/server.js';
import type { CatalogService } from '../business/catalog.js';

/**
 * catalogInternalRoutes are the facts catalog tells other subgraphs directly
 * (order and chat check skills and services with them), answered only to
 * calls that carry the gateway's token. Their requests and replies are
 * contracts/internal-routes.ts's providerSkillsRoute and servicesRoute.
 */
export function catalogInternalRoutes(catalog: CatalogService, trust: GatewayTrust): Record<string, RouteHandler> {
  return {
    ...internalGetRoute(trust, providerSkillsRoute, async ({ providerIds }) => ({ skills: await catalog.skillsOfProviders(providerIds) })),
    ...internalGetRoute(trust, servicesRoute, async ({ ids }) => {
      const services = await catalog.servicesByIds(ids);
      return { services: services.map((s) => ({ id: s.id, categoryId: s.categoryId, name: s.name })) };
    }),
  };
}
