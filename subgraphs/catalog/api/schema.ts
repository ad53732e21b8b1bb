import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../../foundation/subgraph.js';
import { isId } from '../../../foundation/ids.js';
import type { CatalogService } from '../business/catalog.js';
import type { CatalogContext } from './context.js';
import { CategoryResolver, ServiceResolver } from './resolvers.js';

/**
 * buildCatalogSchema builds the catalog subgraph's schema around its business
 * service; without one the schema can be printed but not executed.
 */
export function buildCatalogSchema(catalog?: CatalogService): Promise<GraphQLSchema> {
  return buildFederatedSchema<CatalogContext>({
    resolvers: [CategoryResolver, ServiceResolver],
    instances: catalog
      ? new Map<Function, object>([
          [CategoryResolver, new CategoryResolver(catalog)],
          [ServiceResolver, new ServiceResolver(catalog)],
        ])
      : undefined,
    references: {
      Category: (ref, ctx) => (isId(ref.id) ? ctx.loaders.category.load(ref.id) : null),
      Service: (ref, ctx) => (isId(ref.id) ? ctx.loaders.service.load(ref.id) : null),
    },
  });
}
