import type DataLoader from 'dataloader';
import { byIdLoader, groupLoader } from '../../../foundation/graphql/loaders.js';
import { MAX_PAGE_SIZE } from '../../../foundation/core/pagination.js';
import type { CallerContext } from '../../../foundation/graphql/permissions.js';
import type { CatalogService, Category, Service, Skill } from '../business/catalog.js';

/** CatalogLoaders batch the catalog's look-ups within one request. */
export interface CatalogLoaders {
  category: DataLoader<string, Category | null>;
  service: DataLoader<string, Service | null>;
  servicesOfCategory: DataLoader<string, Service[]>;
  skillsOfProvider: DataLoader<string, Skill[]>;
  skillsOfService: DataLoader<string, Skill[]>;
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
    skillsOfProvider: groupLoader(
      'skillsOfProvider',
      (ids) => catalog.skillsOfProviders(ids),
      (k) => k.providerId,
    ),
    skillsOfService: groupLoader(
      'skillsOfService',
      (ids) => catalog.skillsOfServices(ids, MAX_PAGE_SIZE),
      (k) => k.serviceId,
    ),
  };
}
