import { In, type DataSource, type Repository } from 'typeorm';
import { newId } from '../../../foundation/ids.js';
import type { Category, CatalogStore, NewCategory, NewService, Service, ServiceFilter } from '../business/catalog.js';
import { CategoryRow, ServiceRow } from './entities.js';

/** toCategory converts a row to the business value. */
export function toCategory(row: CategoryRow): Category {
  return { id: row.id, name: row.name, createdAt: row.createdAt };
}

/** toService converts a row to the business value. */
export function toService(row: ServiceRow): Service {
  return { id: row.id, categoryId: row.categoryId, name: row.name, description: row.description, createdAt: row.createdAt };
}

/** escapeLike makes user text literal inside a LIKE pattern. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** PostgresCatalogStore is the catalog's storage on its own database. */
export class PostgresCatalogStore implements CatalogStore {
  private readonly categories: Repository<CategoryRow>;
  private readonly services: Repository<ServiceRow>;

  constructor(dataSource: DataSource) {
    this.categories = dataSource.getRepository(CategoryRow);
    this.services = dataSource.getRepository(ServiceRow);
  }

  async listCategories(): Promise<Category[]> {
    return (await this.categories.find({ order: { name: 'ASC' } })).map(toCategory);
  }

  async categoriesByIds(ids: readonly string[]): Promise<Category[]> {
    if (ids.length === 0) return [];
    return (await this.categories.findBy({ id: In([...ids]) })).map(toCategory);
  }

  async categoryByName(name: string): Promise<Category | null> {
    const row = await this.categories.createQueryBuilder('c').where('lower(c.name) = lower(:name)', { name }).getOne();
    return row ? toCategory(row) : null;
  }

  async listServices(filter: ServiceFilter): Promise<Service[]> {
    const query = this.services.createQueryBuilder('s').orderBy('s.name', 'ASC').addOrderBy('s.id', 'ASC');
    if (filter.categoryId) query.andWhere('s.category_id = :categoryId', { categoryId: filter.categoryId });
    if (filter.search) {
      // Matches the trigram index on lower(name || ' ' || description).
      query.andWhere(`lower(s.name || ' ' || s.description) LIKE :pattern`, {
        pattern: `%${escapeLike(filter.search.toLowerCase())}%`,
      });
    }
    return (await query.getMany()).map(toService);
  }

  async servicesByIds(ids: readonly string[]): Promise<Service[]> {
    if (ids.length === 0) return [];
    return (await this.services.findBy({ id: In([...ids]) })).map(toService);
  }

  async servicesByCategoryIds(categoryIds: readonly string[]): Promise<Service[]> {
    if (categoryIds.length === 0) return [];
    return (await this.services.find({ where: { categoryId: In([...categoryIds]) }, order: { name: 'ASC' } })).map(toService);
  }

  async ensureCategory(category: NewCategory): Promise<Category> {
    await this.categories
      .createQueryBuilder()
      .insert()
      .values({ id: newId(), name: category.name })
      .orIgnore()
      .execute();
    const found = await this.categoryByName(category.name);
    if (!found) throw new Error(`category ${category.name} vanished after insert`);
    return found;
  }

  async ensureService(service: NewService): Promise<Service> {
    await this.services
      .createQueryBuilder()
      .insert()
      .values({ id: newId(), categoryId: service.categoryId, name: service.name, description: service.description })
      .orIgnore()
      .execute();
    const row = await this.services
      .createQueryBuilder('s')
      .where('s.category_id = :categoryId AND lower(s.name) = lower(:name)', service)
      .getOneOrFail();
    return toService(row);
  }
}
