import { NotFoundError } from '../../../foundation/errors.js';

/** Category groups services, such as Plumbing. */
export interface Category {
  id: string;
  name: string;
  createdAt: Date;
}

/** Service is a kind of work a provider may offer, within one category. */
export interface Service {
  id: string;
  categoryId: string;
  name: string;
  description: string;
  createdAt: Date;
}

/** ServiceFilter narrows the list of services; search matches name and description, ignoring case. */
export interface ServiceFilter {
  categoryId?: string;
  search?: string;
}

/** NewCategory and NewService are what seeding and admins create. */
export interface NewCategory {
  name: string;
}
export interface NewService {
  categoryId: string;
  name: string;
  description: string;
}

/** CatalogStore is the storage the catalog needs; the store layer implements it. */
export interface CatalogStore {
  listCategories(): Promise<Category[]>;
  categoriesByIds(ids: readonly string[]): Promise<Category[]>;
  listServices(filter: ServiceFilter): Promise<Service[]>;
  servicesByIds(ids: readonly string[]): Promise<Service[]>;
  servicesByCategoryIds(categoryIds: readonly string[]): Promise<Service[]>;
  categoryByName(name: string): Promise<Category | null>;
  /** ensureCategory and ensureService insert unless one of the same name exists, and return it. */
  ensureCategory(category: NewCategory): Promise<Category>;
  ensureService(service: NewService): Promise<Service>;
}

/** CatalogService holds the catalog's rules: what is listed and how it is found. */
export class CatalogService {
  constructor(private readonly store: CatalogStore) {}

  /** categories lists every category by name. */
  categories(): Promise<Category[]> {
    return this.store.listCategories();
  }

  /** services lists services by name, optionally within a category and matching a search text. */
  async services(filter: ServiceFilter): Promise<Service[]> {
    const search = filter.search?.trim();
    if (filter.categoryId) {
      const [category] = await this.store.categoriesByIds([filter.categoryId]);
      if (!category) throw new NotFoundError('Category', filter.categoryId);
    }
    return this.store.listServices({ categoryId: filter.categoryId, search: search ? search : undefined });
  }

  /** categoriesByIds loads categories for a batch of ids (entity references, loaders). */
  categoriesByIds(ids: readonly string[]): Promise<Category[]> {
    return this.store.categoriesByIds(ids);
  }

  /** servicesByIds loads services for a batch of ids. */
  servicesByIds(ids: readonly string[]): Promise<Service[]> {
    return this.store.servicesByIds(ids);
  }

  /** servicesByCategoryIds loads the services of a batch of categories. */
  servicesByCategoryIds(categoryIds: readonly string[]): Promise<Service[]> {
    return this.store.servicesByCategoryIds(categoryIds);
  }

  /** seed makes sure the given categories and their services exist; running it again changes nothing. */
  async seed(catalog: readonly { category: string; services: readonly { name: string; description: string }[] }[]): Promise<void> {
    for (const entry of catalog) {
      const category = await this.store.ensureCategory({ name: entry.category });
      for (const service of entry.services) {
        await this.store.ensureService({ categoryId: category.id, name: service.name, description: service.description });
      }
    }
  }
}
