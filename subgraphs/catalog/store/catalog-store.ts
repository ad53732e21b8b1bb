import { type DataSource, type EntityManager, type Repository } from 'typeorm';
import type { AuditEntry } from '../../../foundation/events/audit-entry.js';
import { ConflictError } from '../../../foundation/core/errors.js';
import type { Caller } from '../../../contracts/caller.js';
import { newId } from '../../../foundation/core/ids.js';
import { recordAuditEvent } from '../../../foundation/events/outbox.js';
import { KeptRows } from '../../../foundation/postgres/kept-rows.js';
import { EntityReader, isUniqueViolation, returnedRows } from '../../../foundation/postgres/database.js';
import type {
  CatalogStore,
  CatalogTx,
  Category,
  NewCategory,
  NewService,
  Service,
  ServiceFilter,
  Skill,
} from '../business/catalog.js';
import { CategoryRow, ServiceRow } from './entities.js';

/** toCategory converts a row to the business value. */
export function toCategory(row: CategoryRow): Category {
  return { id: row.id, name: row.name, createdAt: row.createdAt };
}

/**
 * toService converts a row to the business value: the row has every field of Service, so a new column needs no edit
 * here.
 */
export function toService(row: ServiceRow): Service {
  return { ...row };
}

/** escapeLike makes user text literal inside a LIKE pattern. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

class PostgresCatalogTx implements CatalogTx {
  constructor(
    private readonly manager: EntityManager,
    private readonly caller: Caller,
  ) {}

  async insertCategory(category: NewCategory): Promise<Category> {
    const id = newId();
    try {
      await this.manager.insert(CategoryRow, { id, name: category.name });
    } catch (err) {
      if (isUniqueViolation(err, 'categories_name_key'))
        throw new ConflictError(`A category named ${category.name} exists`);
      throw err;
    }
    return toCategory(await this.manager.findOneByOrFail(CategoryRow, { id }));
  }

  async insertService(service: NewService): Promise<Service> {
    const id = newId();
    try {
      await this.manager.insert(ServiceRow, {
        id,
        categoryId: service.categoryId,
        name: service.name,
        description: service.description,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'services_category_name_key'))
        throw new ConflictError(`A service named ${service.name} exists in this category`);
      throw err;
    }
    return toService(await this.manager.findOneByOrFail(ServiceRow, { id }));
  }

  async record(entry: AuditEntry): Promise<void> {
    await recordAuditEvent(this.manager, 'catalog', entry, this.caller);
  }
}

/**
 * ServiceOrder ranks every service by name, then id, as PostgreSQL orders them (`ORDER BY name, id`, in the
 * database's collation), so that a batch of providers' skills is read from the primary key alone and put in that order
 * here, without a join and a sort per read. Services never change once made, so the ranks stay true until one is added:
 * an id they lack reloads them (one load at a time). With more services than `max`, or `max` 0, or when a load fails,
 * there are no ranks and the caller sorts in SQL.
 */
class ServiceOrder {
  private ranks: Map<string, number> | undefined;
  private loading: Promise<Map<string, number> | undefined> | undefined;
  /** tooMany is set once more than `max` services exist: services are never removed, so it stays true. */
  private tooMany: boolean;

  constructor(
    private readonly max: number,
    private readonly load: (limit: number) => Promise<string[]>,
  ) {
    this.tooMany = max === 0;
  }

  /** sortsInSql says the ranks are not kept (more services than `max`, or `max` 0): order in SQL from the start. */
  get sortsInSql(): boolean {
    return this.tooMany;
  }

  /** ranksOf gives ranks that know every one of the ids, or undefined when the caller must sort in SQL. */
  async ranksOf(ids: readonly string[]): Promise<Map<string, number> | undefined> {
    if (this.tooMany) return undefined;
    if (this.ranks && ids.every((id) => this.ranks!.has(id))) return this.ranks;
    this.loading ??= this.load(this.max + 1)
      .then((ordered) => {
        if (ordered.length > this.max) this.tooMany = true;
        else this.ranks = new Map(ordered.map((id, i) => [id, i]));
        return this.ranks;
      })
      .finally(() => {
        this.loading = undefined;
      });
    // A failed load leaves the order to SQL for this read (whose own statement reports what is wrong).
    const ranks = this.tooMany ? undefined : await this.loading.catch(() => undefined);
    return ranks && ids.every((id) => ranks.has(id)) ? ranks : undefined;
  }
}

/** PostgresCatalogStore is the catalog's storage on its own database. */
export class PostgresCatalogStore implements CatalogStore {
  private readonly categories: Repository<CategoryRow>;
  private readonly services: Repository<ServiceRow>;
  private readonly categoryRows: EntityReader<CategoryRow>;
  private readonly serviceRows: EntityReader<ServiceRow>;
  private readonly keptCategories: KeptRows<Category>;
  private readonly keptServices: KeptRows<Service>;
  private readonly serviceOrder: ServiceOrder;

  /** keptRows is how many services and how many categories, once read, are kept in memory; 0 reads every time. */
  constructor(
    private readonly dataSource: DataSource,
    keptRows = 10_000,
  ) {
    this.keptCategories = new KeptRows(keptRows);
    this.keptServices = new KeptRows(keptRows);
    this.serviceOrder = new ServiceOrder(keptRows, async (limit) =>
      ((await dataSource.query(`SELECT id FROM services ORDER BY name, id LIMIT $1`, [limit])) as { id: string }[]).map(
        (r) => r.id,
      ),
    );
    this.categories = dataSource.getRepository(CategoryRow);
    this.services = dataSource.getRepository(ServiceRow);
    this.categoryRows = new EntityReader(dataSource, CategoryRow, 'c');
    this.serviceRows = new EntityReader(dataSource, ServiceRow, 's');
  }

  transaction<T>(caller: Caller, fn: (tx: CatalogTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => fn(new PostgresCatalogTx(manager, caller)));
  }

  // A changed row of `skills` writes its `skills` event of the catalog feed in the same statement: the table's trigger
  // (migrations/catalog/1764806400000-catalog-events.ts), so that no write, here or by hand, skips the feed.
  async addSkill(skill: Skill): Promise<boolean> {
    const rows = returnedRows(
      await this.dataSource.query(
        `INSERT INTO skills (provider_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING provider_id`,
        [skill.providerId, skill.serviceId],
      ),
    );
    return rows.length > 0;
  }

  async removeSkill(skill: Skill): Promise<boolean> {
    const rows = returnedRows(
      await this.dataSource.query(
        `DELETE FROM skills WHERE provider_id = $1 AND service_id = $2 RETURNING provider_id`,
        [skill.providerId, skill.serviceId],
      ),
    );
    return rows.length > 0;
  }

  /** skillsOfProviders gives the providers' skills in their services' order (by name, then id). */
  async skillsOfProviders(providerIds: readonly string[]): Promise<Skill[]> {
    if (providerIds.length === 0) return [];
    if (!this.serviceOrder.sortsInSql) {
      // The primary key alone; the services' ranks put the rows in order (a join and a sort here were half of
      // PostgreSQL's time for a dashboard that lists 200 providers' skills).
      const rows: { provider_id: string; service_id: string }[] = await this.dataSource.query(
        `SELECT provider_id, service_id FROM skills WHERE provider_id = ANY($1::uuid[])`,
        [providerIds],
      );
      const ranks = await this.serviceOrder.ranksOf(rows.map((r) => r.service_id));
      if (ranks) {
        // Each row's rank looked up once, then sorted by number (a look-up per comparison cost 4% of the catalog).
        const ranked = rows.map((r) => ({
          rank: ranks.get(r.service_id)!,
          providerId: r.provider_id,
          serviceId: r.service_id,
        }));
        ranked.sort((a, b) => a.rank - b.rank);
        return ranked.map(({ providerId, serviceId }) => ({ providerId, serviceId }));
      }
    }
    const rows: { provider_id: string; service_id: string }[] = await this.dataSource.query(
      `SELECT k.provider_id, k.service_id FROM skills k JOIN services s ON s.id = k.service_id WHERE k.provider_id = ANY($1::uuid[]) ORDER BY s.name, s.id`,
      [providerIds],
    );
    return rows.map((r) => ({ providerId: r.provider_id, serviceId: r.service_id }));
  }

  async skillsOfServices(serviceIds: readonly string[], perService?: number): Promise<Skill[]> {
    if (serviceIds.length === 0) return [];
    // With perService, only the first that many of each service, in one statement for the whole batch: each service's
    // first ones are a range of skills_service_added_idx (ranking every provider of a popular service cost far more).
    const rows: { provider_id: string; service_id: string }[] = await this.dataSource.query(
      perService === undefined
        ? `SELECT provider_id, service_id FROM skills WHERE service_id = ANY($1::uuid[]) ORDER BY created_at, provider_id`
        : `SELECT k.provider_id, k.service_id FROM unnest($1::uuid[]) AS s(service_id)
           CROSS JOIN LATERAL (
             SELECT provider_id, service_id, created_at FROM skills
              WHERE service_id = s.service_id ORDER BY created_at, provider_id LIMIT $2) k
           ORDER BY k.created_at, k.provider_id`,
      perService === undefined ? [serviceIds] : [[...new Set(serviceIds)], perService],
    );
    return rows.map((r) => ({ providerId: r.provider_id, serviceId: r.service_id }));
  }

  async listCategories(): Promise<Category[]> {
    return (await this.categories.find({ order: { name: 'ASC' } })).map(toCategory);
  }

  async categoriesByIds(ids: readonly string[]): Promise<Category[]> {
    if (ids.length === 0) return [];
    return this.keptCategories.byIds(ids, async (missing) =>
      (await this.categoryRows.rows('WHERE c.id = ANY($1::uuid[])', [missing])).map(toCategory),
    );
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
    return this.keptServices.byIds(ids, async (missing) =>
      (await this.serviceRows.rows('WHERE s.id = ANY($1::uuid[])', [missing])).map(toService),
    );
  }

  async servicesByCategoryIds(categoryIds: readonly string[]): Promise<Service[]> {
    if (categoryIds.length === 0) return [];
    return (
      await this.serviceRows.rows('WHERE s.category_id = ANY($1::uuid[]) ORDER BY s.name, s.id', [categoryIds])
    ).map(toService);
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
