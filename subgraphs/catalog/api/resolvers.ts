import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { InvalidInputError } from '../../../foundation/errors.js';
import { parseId } from '../../../foundation/ids.js';
import type { CatalogService, Category, Service } from '../business/catalog.js';
import type { CatalogContext } from './context.js';
import { CategoryType, ServiceType } from './types.js';

/** MAX_SEARCH_LENGTH bounds the search text. */
const MAX_SEARCH_LENGTH = 100;

/** CategoryResolver serves categories and their services. */
@Resolver(() => CategoryType)
export class CategoryResolver {
  constructor(private readonly catalog: CatalogService) {}

  @Query(() => [CategoryType], { description: 'Every category, by name.' })
  categories(): Promise<Category[]> {
    return this.catalog.categories();
  }

  @FieldResolver(() => [ServiceType])
  services(@Root() category: Category, @Ctx() ctx: CatalogContext): Promise<Service[]> {
    return ctx.loaders.servicesOfCategory.load(category.id);
  }
}

/** ServiceResolver serves services and their category. */
@Resolver(() => ServiceType)
export class ServiceResolver {
  constructor(private readonly catalog: CatalogService) {}

  @Query(() => [ServiceType], { description: 'Services by name, optionally within a category and matching a search text.' })
  services(
    @Arg('categoryId', () => ID, { nullable: true }) categoryId?: string | null,
    @Arg('search', () => String, { nullable: true }) search?: string | null,
  ): Promise<Service[]> {
    if (search != null && search.length > MAX_SEARCH_LENGTH) {
      throw new InvalidInputError('search', `search is longer than ${MAX_SEARCH_LENGTH} characters`);
    }
    return this.catalog.services({
      categoryId: categoryId == null ? undefined : parseId(categoryId, 'categoryId'),
      search: search ?? undefined,
    });
  }

  @FieldResolver(() => CategoryType)
  async category(@Root() service: Service, @Ctx() ctx: CatalogContext): Promise<Category> {
    const category = await ctx.loaders.category.load(service.categoryId);
    if (!category) throw new Error(`service ${service.id} has no category ${service.categoryId}`);
    return category;
  }
}
