import type DataLoader from 'dataloader';
import { byIdLoader, groupLoader } from '../../../foundation/graphql/loaders.js';
import type { CallerContext } from '../../../foundation/graphql/permissions.js';
import type { CatalogService, Category, Service, Skill } from '../business/catalog.js';

/** CatalogLoaders batch the catalog's look-ups within one request. */
export interface CatalogLoaders {
  category: DataLoader<string, Category | null>;
  service: DataLoader<string, Service | null>;
  servicesOfCategory: DataLoader<string, Service[]>;
  /** servicesOfProvider gives the services a provider offers, in the skills' order. */
  servicesOfProvider: DataLoader<string, { providerId: string; service: Service }[]>;
  /** skillsOfService gives a service's first providers, keyed by servicePage(service, first). */
  skillsOfService: DataLoader<string, { page: string; skill: Skill }[]>;
}

/** servicePage keys one page of a service's providers: the first `first` of them. */
export function servicePage(serviceId: string, first: number): string {
  return `${first}:${serviceId}`;
}

/** pageOfKey reads a key servicePage made. */
function pageOfKey(key: string): { serviceId: string; first: number } {
  const at = key.indexOf(':');
  return { first: Number(key.slice(0, at)), serviceId: key.slice(at + 1) };
}

/** CatalogContext is the per-request GraphQL context of the catalog subgraph. */
export interface CatalogContext extends CallerContext {
  loaders: CatalogLoaders;
}

/** createLoaders makes a request's loaders. */
export function createLoaders(catalog: CatalogService): CatalogLoaders {
  return {
    category: byIdLoader('category', (ids) => catalog.categoriesByIds(ids)),
    service: byIdLoader('service', (ids) => catalog.servicesByIds(ids)),
    servicesOfCategory: groupLoader(
      'servicesOfCategory',
      (ids) => catalog.servicesByCategoryIds(ids),
      (s) => s.categoryId,
    ),
    servicesOfProvider: groupLoader(
      'servicesOfProvider',
      (ids) => catalog.servicesOfProviders(ids),
      (k) => k.providerId,
    ),
    // One statement per page size asked for in the request (as a rule one): each service's page, not
    // MAX_PAGE_SIZE rows of it to slice.
    skillsOfService: groupLoader(
      'skillsOfService',
      async (pages: readonly string[]) => {
        const bySize = new Map<number, string[]>();
        for (const key of pages) {
          const { serviceId, first } = pageOfKey(key);
          const ids = bySize.get(first);
          if (ids) ids.push(serviceId);
          else bySize.set(first, [serviceId]);
        }
        const loaded = await Promise.all(
          [...bySize].map(async ([first, ids]) =>
            (await catalog.skillsOfServices(ids, first)).map((skill) => ({
              page: servicePage(skill.serviceId, first),
              skill,
            })),
          ),
        );
        return loaded.flat();
      },
      (row) => row.page,
    ),
  };
}
