import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { SignedInCaller } from '../../../contracts/caller.js';
import { SignedIn } from '../../../foundation/graphql/permissions.js';
import { pageSize } from '../../../foundation/core/pagination.js';
import { InvalidInputError } from '../../../foundation/core/errors.js';
import { parseId } from '../../../foundation/core/ids.js';
import type { CatalogService, Category, Service } from '../business/catalog.js';
import { servicePage, type CatalogContext } from './context.js';
import { CategoryType, CreateServiceInputType, ServiceType, UserType } from './types.js';

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

  @FieldResolver(() => [ServiceType], { description: 'The services of this category.' })
  services(@Root() category: Category, @Ctx() ctx: CatalogContext): Promise<Service[]> {
    return ctx.loaders.servicesOfCategory.load(category.id);
  }

  @Mutation(() => CategoryType, { description: 'Adds a category (admins); its name must be unique.' })
  createCategory(@Arg('name') name: string, @SignedIn() caller: SignedInCaller): Promise<Category> {
    return this.catalog.createCategory(name, caller.viewer, caller);
  }
}

/** ServiceResolver serves services and their category. */
@Resolver(() => ServiceType)
export class ServiceResolver {
  constructor(private readonly catalog: CatalogService) {}

  @Query(() => [ServiceType], {
    description: 'Services by name, optionally within a category and matching a search text.',
  })
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

  @FieldResolver(() => CategoryType, { description: 'The category the service belongs to.' })
  async category(@Root() service: Service, @Ctx() ctx: CatalogContext): Promise<Category> {
    const category = await ctx.loaders.category.load(service.categoryId);
    if (!category) throw new Error(`service ${service.id} has no category ${service.categoryId}`);
    return category;
  }

  @FieldResolver(() => [UserType], {
    description: 'The providers who offer this service, in the order they added it (first: default 20, at most 100).',
  })
  async providers(
    @Root() service: Service,
    @Ctx() ctx: CatalogContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
  ): Promise<UserType[]> {
    const size = pageSize(first, 'first');
    return (await ctx.loaders.skillsOfService.load(servicePage(service.id, size))).map((r) => ({
      id: r.skill.providerId,
    }));
  }

  @Mutation(() => ServiceType, {
    description: 'Adds a service to a category (admins); its name must be unique in the category.',
  })
  createService(
    @Arg('input', () => CreateServiceInputType) input: CreateServiceInputType,
    @SignedIn() caller: SignedInCaller,
  ): Promise<Service> {
    return this.catalog.createService(
      { categoryId: parseId(input.categoryId, 'input.categoryId'), name: input.name, description: input.description },
      caller.viewer,
      caller,
    );
  }
}

/** SkillResolver serves providers' skills: `User.skills`, addSkill and removeSkill. */
@Resolver(() => UserType)
export class SkillResolver {
  constructor(private readonly catalog: CatalogService) {}

  @FieldResolver(() => [ServiceType], { description: 'The services this user offers as a provider.' })
  async skills(@Root() user: UserType, @Ctx() ctx: CatalogContext): Promise<Service[]> {
    return (await ctx.loaders.servicesOfProvider.load(user.id)).map((k) => k.service);
  }

  @Mutation(() => UserType, { description: "Adds a service to the calling provider's skills." })
  async addSkill(@Arg('serviceId', () => ID) serviceId: string, @SignedIn() caller: SignedInCaller): Promise<UserType> {
    await this.catalog.addSkill(parseId(serviceId, 'serviceId'), caller.viewer);
    return { id: caller.viewer.id };
  }

  @Mutation(() => UserType, { description: "Removes a service from the calling provider's skills." })
  async removeSkill(
    @Arg('serviceId', () => ID) serviceId: string,
    @SignedIn() caller: SignedInCaller,
  ): Promise<UserType> {
    await this.catalog.removeSkill(parseId(serviceId, 'serviceId'), caller.viewer);
    return { id: caller.viewer.id };
  }
}
