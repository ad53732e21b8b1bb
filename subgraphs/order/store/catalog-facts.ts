import type { Caller } from '../../../contracts/caller.js';
import { providerSkillsRoute, servicesRoute } from '../../../contracts/internal-routes.js';
import { internalGet, type InternalCall } from '../../../foundation/http/internal-calls.js';
import type { CatalogFacts } from '../business/orders.js';

/**
 * HttpCatalogFacts asks the catalog subgraph, on its internal routes, what
 * the order workflow must know: a provider's skills and whether a service
 * exists. It never reads catalog's database. Skills are asked once per
 * request (cached on the request's caller).
 */
export class HttpCatalogFacts implements CatalogFacts {
  private readonly skills = new WeakMap<Caller, Map<string, Promise<readonly string[]>>>();

  constructor(
    private readonly catalogUrl: string,
    private readonly call: InternalCall,
  ) {}

  skillsOf(providerId: string, caller: Caller): Promise<readonly string[]> {
    let perRequest = this.skills.get(caller);
    if (!perRequest) this.skills.set(caller, (perRequest = new Map()));
    let found = perRequest.get(providerId);
    if (!found) {
      found = internalGet(this.catalogUrl, providerSkillsRoute, { providerIds: providerId }, caller, this.call).then(
        (r) => r.skills.map((k) => k.serviceId),
      );
      perRequest.set(providerId, found);
    }
    return found;
  }

  async serviceExists(serviceId: string, caller: Caller): Promise<boolean> {
    const { services } = await internalGet(this.catalogUrl, servicesRoute, { ids: serviceId }, caller, this.call);
    return services.some((s) => s.id === serviceId);
  }
}
