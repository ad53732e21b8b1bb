import type { Caller } from '../../../contracts/caller.js';
import { providerSkillsRoute, servicesRoute } from '../../../contracts/internal-routes.js';
import { internalGet, type InternalCall } from '../../../foundation/http/internal-calls.js';
import type { CatalogFacts } from '../business/orders.js';
import type { KeptSkills } from './kept-skills.js';

/** CATALOG names the catalog's feed among the caller's feedPositions (contracts/feeds.ts). */
const CATALOG = 'catalog';

/**
 * HttpCatalogFacts asks the catalog subgraph, on its internal routes, what
 * the order workflow must know: a provider's skills and whether a service
 * exists. It never reads catalog's database. Skills are asked once per
 * request (cached on the request's caller), and, with a KeptSkills, answered
 * from order's copy where the request's gateway allows it (kept-skills.ts).
 */
export class HttpCatalogFacts implements CatalogFacts {
  private readonly skills = new WeakMap<Caller, Map<string, Promise<readonly string[]>>>();

  constructor(
    private readonly catalogUrl: string,
    private readonly call: InternalCall,
    private readonly kept?: KeptSkills,
  ) {}

  skillsOf(
    providerId: string,
    caller: Caller,
    { fresh = false }: { fresh?: boolean } = {},
  ): Promise<readonly string[]> {
    let perRequest = this.skills.get(caller);
    if (!perRequest) this.skills.set(caller, (perRequest = new Map()));
    // A fresh answer already made in this request serves its other look-ups too, so that they agree.
    const key = fresh ? `fresh:${providerId}` : providerId;
    let found = perRequest.get(key) ?? (fresh ? undefined : perRequest.get(`fresh:${providerId}`));
    if (!found) {
      const read = () =>
        internalGet(this.catalogUrl, providerSkillsRoute, { providerIds: providerId }, caller, this.call).then((r) =>
          r.skills.map((k) => k.serviceId),
        );
      found = this.kept && !fresh ? this.kept.skillsOf(providerId, caller.feedPositions?.[CATALOG], read) : read();
      perRequest.set(key, found);
    }
    return found;
  }

  async serviceExists(serviceId: string, caller: Caller): Promise<boolean> {
    const { services } = await internalGet(this.catalogUrl, servicesRoute, { ids: serviceId }, caller, this.call);
    return services.some((s) => s.id === serviceId);
  }
}
