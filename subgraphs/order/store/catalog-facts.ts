import type { Caller } from '../../../foundation/identity.js';
import { internalGet, type ServiceCredentials } from '../../../foundation/internal-calls.js';
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
    private readonly timeoutMs: number,
    private readonly credentials: ServiceCredentials,
  ) {}

  skillsOf(providerId: string, caller: Caller): Promise<readonly string[]> {
    let perRequest = this.skills.get(caller);
    if (!perRequest) this.skills.set(caller, (perRequest = new Map()));
    let found = perRequest.get(providerId);
    if (!found) {
      const url = new URL('/internal/provider-skills', this.catalogUrl);
      url.searchParams.set('providerIds', providerId);
      found = internalGet<{ skills: { providerId: string; serviceId: string }[] }>(url, caller, this.timeoutMs, this.credentials).then((r) => r.skills.map((k) => k.serviceId));
      perRequest.set(providerId, found);
    }
    return found;
  }

  async serviceExists(serviceId: string, caller: Caller): Promise<boolean> {
    const url = new URL('/internal/services', this.catalogUrl);
    url.searchParams.set('ids', serviceId);
    const { services } = await internalGet<{ services: { id: string }[] }>(url, caller, this.timeoutMs, this.credentials);
    return services.some((s) => s.id === serviceId);
  }
}
