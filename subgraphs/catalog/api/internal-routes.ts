import { providerSkillsRoute, servicesRoute } from '../../../contracts/internal-routes.js';
import { internalGetRoute, type ServiceCredentials } from '../../../foundation/http/internal-calls.js';
import type { RouteHandler } from '../../../foundation/http/server.js';
import type { CatalogService } from '../business/catalog.js';

/**
 * catalogInternalRoutes are the facts catalog tells other subgraphs directly
 * (order and chat check skills and services with them), answered only to
 * other Fixup services calling with their own credentials (serviceOnly). Their requests and replies are
 * contracts/internal-routes.ts's providerSkillsRoute and servicesRoute.
 */
export function catalogInternalRoutes(
  catalog: CatalogService,
  internal: ServiceCredentials,
): Record<string, RouteHandler> {
  return {
    ...internalGetRoute(internal, providerSkillsRoute, async ({ providerIds }) => ({
      skills: await catalog.skillsOfProviders(providerIds),
    })),
    ...internalGetRoute(internal, servicesRoute, async ({ ids }) => {
      const services = await catalog.servicesByIds(ids);
      return { services: services.map((s) => ({ id: s.id, categoryId: s.categoryId, name: s.name })) };
    }),
  };
}
