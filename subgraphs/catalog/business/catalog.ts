import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../../foundation/core/errors.js';
import type { Caller, Viewer } from '../../../contracts/caller.js';

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

/** Skill says a provider offers a service. */
export interface Skill {
  providerId: string;
  serviceId: string;
}

/** CatalogTx is what one transaction of the catalog store can do; changes and their audit events commit together. */
export interface CatalogTx {
  /** insertCategory and insertService throw ConflictError when the name is taken in its scope. */
  insertCategory(category: NewCategory): Promise<Category>;
  insertService(service: NewService): Promise<Service>;
  record(entry: AuditEntry): Promise<void>;
}

/** CatalogStore is the storage the catalog needs; the store layer implements it. */
export interface CatalogStore {
  transaction<T>(caller: Caller, fn: (tx: CatalogTx) => Promise<T>): Promise<T>;
  /**
   * addSkill and removeSkill report whether anything changed; a change writes, in its own transaction, a `skills` event
   * of the catalog feed for the provider.
   */
  addSkill(skill: Skill): Promise<boolean>;
  removeSkill(skill: Skill): Promise<boolean>;
  skillsOfProviders(providerIds: readonly string[]): Promise<Skill[]>;
  /** skillsOfServices gives who offers each service, oldest skill first; with perService, only that many of each. */
  skillsOfServices(serviceIds: readonly string[], perService?: number): Promise<Skill[]>;
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

/**
 * CatalogFeed tells every gateway at once that a provider's skills changed (the catalog's change feed, whose events a
 * trigger on `skills` writes with each change): the gateways drop what they kept of that provider's `User.skills` and
 * of that service's `Service.providers`.
 */
export interface CatalogFeed {
  /**
   * publish sends the events committed so far to the feed's followers; the answer then names the feed's position. It
   * never rejects: a mutation that committed is not failed for a feed that could not send (the next publish does).
   */
  publish(): Promise<void>;
}

const MAX_NAME = 100;
const MAX_DESCRIPTION = 2000;

function checkText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > max)
    throw new InvalidInputError(field, `${field} must be 1 to ${max} characters`);
  return trimmed;
}

/** CatalogService holds the catalog's rules: what is listed, how it is found, who creates it, and providers' skills. */
export class CatalogService {
  constructor(
    private readonly store: CatalogStore,
    private readonly feed: CatalogFeed,
  ) {}

  /** createCategory adds a category (admins); names are unique whatever their case. */
  createCategory(name: string, admin: Viewer, caller: Caller): Promise<Category> {
    const category = { name: checkText(name, 'name', MAX_NAME) };
    return this.store.transaction(caller, async (tx) => {
      const created = await tx.insertCategory(category);
      await tx.record({
        action: 'catalog.category_created',
        actorId: admin.id,
        targetType: 'Category',
        targetId: created.id,
        metadata: { name: created.name },
      });
      return created;
    });
  }

  /** createService adds a service to a category (admins); names are unique within their category. */
  async createService(input: NewService, admin: Viewer, caller: Caller): Promise<Service> {
    const service = {
      categoryId: input.categoryId,
      name: checkText(input.name, 'input.name', MAX_NAME),
      description: checkText(input.description, 'input.description', MAX_DESCRIPTION),
    };
    const [category] = await this.store.categoriesByIds([service.categoryId]);
    if (!category) throw new NotFoundError('Category', service.categoryId);
    return this.store.transaction(caller, async (tx) => {
      const created = await tx.insertService(service);
      await tx.record({
        action: 'catalog.service_created',
        actorId: admin.id,
        targetType: 'Service',
        targetId: created.id,
        metadata: { name: created.name, categoryId: created.categoryId },
      });
      return created;
    });
  }

  /** addSkill says the provider offers a service. */
  async addSkill(serviceId: string, provider: Viewer): Promise<void> {
    const [service] = await this.store.servicesByIds([serviceId]);
    if (!service) throw new NotFoundError('Service', serviceId);
    if (!(await this.store.addSkill({ providerId: provider.id, serviceId })))
      throw new ConflictError('This service is already among your skills');
    // Published before the answer, which names the feed's position: gateways drop what they kept of these skills first.
    await this.feed.publish();
  }

  /** removeSkill says the provider no longer offers a service. */
  async removeSkill(serviceId: string, provider: Viewer): Promise<void> {
    if (!(await this.store.removeSkill({ providerId: provider.id, serviceId })))
      throw new ConflictError('This service is not among your skills');
    await this.feed.publish();
  }

  /** skillsOfProviders loads the skills of a batch of providers. */
  skillsOfProviders(providerIds: readonly string[]): Promise<Skill[]> {
    return this.store.skillsOfProviders(providerIds);
  }

  /**
   * servicesOfProviders loads the services a batch of providers offer, each with its provider, in the skills' order:
   * the skills in one read and their services in one more (kept in memory once read), not one look-up per skill.
   */
  async servicesOfProviders(providerIds: readonly string[]): Promise<{ providerId: string; service: Service }[]> {
    const skills = await this.store.skillsOfProviders(providerIds);
    if (skills.length === 0) return [];
    const ids = [...new Set(skills.map((k) => k.serviceId))];
    const services = new Map((await this.store.servicesByIds(ids)).map((s) => [s.id, s]));
    const found: { providerId: string; service: Service }[] = [];
    for (const { providerId, serviceId } of skills) {
      const service = services.get(serviceId);
      if (service) found.push({ providerId, service });
    }
    return found;
  }

  /** skillsOfServices loads who offers each of a batch of services. */
  skillsOfServices(serviceIds: readonly string[], perService?: number): Promise<Skill[]> {
    return this.store.skillsOfServices(serviceIds, perService);
  }

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
  async seed(
    catalog: readonly { category: string; services: readonly { name: string; description: string }[] }[],
  ): Promise<void> {
    for (const entry of catalog) {
      const category = await this.store.ensureCategory({ name: entry.category });
      for (const service of entry.services) {
        await this.store.ensureService({
          categoryId: category.id,
          name: service.name,
          description: service.description,
        });
      }
    }
  }
}
