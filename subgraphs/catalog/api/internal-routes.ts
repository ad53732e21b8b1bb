import { sendJson, type RouteHandler } from '../../../foundation/http-server.js';
import { serviceOnly, type ServiceCredentials } from '../../../foundation/internal-calls.js';
import { isId } from '../../../foundation/ids.js';
import type { CatalogService } from '../business/catalog.js';

/** MAX_IDS bounds one internal look-up. */
const MAX_IDS = 200;

function guarded(internal: ServiceCredentials, handle: (url: URL) => Promise<unknown>): RouteHandler {
  return serviceOnly(internal, async (req, res) => {
    const body = await handle(new URL(req.url ?? '/', 'http://localhost'));
    if (body === null) return sendJson(res, 400, { error: 'bad ids' });
    sendJson(res, 200, body);
  });
}

function ids(url: URL, name: string): string[] | null {
  const list = (url.searchParams.get(name) ?? '').split(',').filter(Boolean);
  return list.length > 0 && list.length <= MAX_IDS && list.every(isId) ? list : null;
}

/**
 * catalogInternalRoutes are the facts catalog tells other subgraphs directly
 * (the order subgraph checks skills and services with them), answered only to
 * other Fixup services calling with their own credentials (serviceOnly):
 * - GET /internal/provider-skills?providerIds=a,b -> { skills: [{ providerId, serviceId }] }
 * - GET /internal/services?ids=a,b -> { services: [{ id, categoryId, name }] }
 */
export function catalogInternalRoutes(catalog: CatalogService, internal: ServiceCredentials): Record<string, RouteHandler> {
  return {
    'GET /internal/provider-skills': guarded(internal, async (url) => {
      const providerIds = ids(url, 'providerIds');
      return providerIds ? { skills: await catalog.skillsOfProviders(providerIds) } : null;
    }),
    'GET /internal/services': guarded(internal, async (url) => {
      const serviceIds = ids(url, 'ids');
      if (!serviceIds) return null;
      const services = await catalog.servicesByIds(serviceIds);
      return { services: services.map((s) => ({ id: s.id, categoryId: s.categoryId, name: s.name })) };
    }),
  };
}
