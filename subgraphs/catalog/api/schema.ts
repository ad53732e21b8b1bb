import type { GraphQLSchema } from 'graphql';
import { withPermissions } from '../../../foundation/graphql/permissions.js';
import { buildFederatedSchema } from '../../../foundation/graphql/subgraph-schema.js';
import { isId } from '../../../foundation/core/ids.js';
import type { CatalogService } from '../business/catalog.js';
import type { CatalogContext } from './context.js';
import { catalogPermissions } from './permissions.js';
import { CategoryResolver, ServiceResolver, SkillResolver } from './resolvers.js';

/**
 * buildCatalogSchema builds the catalog subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export async function buildCatalogSchema(catalog?: CatalogService): Promise<GraphQLSchema> {
  const schema = await buildFederatedSchema<CatalogContext>({
    resolvers: [CategoryResolver, ServiceResolver, SkillResolver],
    instances: catalog
      ? new Map<Function, object>([
          [CategoryResolver, new CategoryResolver(catalog)],
          [ServiceResolver, new ServiceResolver(catalog)],
          [SkillResolver, new SkillResolver(catalog)],
        ])
      : undefined,
    references: {
      Category: (ref, ctx) => (isId(ref.id) ? ctx.loaders.category.load(ref.id) : null),
      Service: (ref, ctx) => (isId(ref.id) ? ctx.loaders.service.load(ref.id) : null),
      // Catalog only adds skills to User; the user subgraph decides whether the user exists.
      User: (ref) => (isId(ref.id) ? { id: ref.id } : null),
    },
  });
  return withPermissions(schema, catalogPermissions);
}
