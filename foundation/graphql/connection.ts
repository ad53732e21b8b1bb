import { Directive, Field, ObjectType, type ClassType } from 'type-graphql';

/** PageInfoType is the Relay `PageInfo`, shared by every subgraph that serves connections. */
@ObjectType('PageInfo', { description: 'Where a page of a connection sits in the whole list.' })
@Directive('@shareable')
export class PageInfoType {
  @Field({ description: 'Whether there are items after this page.' })
  hasNextPage!: boolean;

  @Field({ description: 'Whether there are items before this page.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor, null on an empty page." })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "The last edge's cursor, null on an empty page." })
  endCursor!: string | null;
}

/** EdgeShape and ConnectionShape are what resolvers return for a connection field. */
export interface EdgeShape<T> {
  cursor: string;
  node: T;
}
export interface ConnectionShape<T> {
  edges: EdgeShape<T>[];
  pageInfo: PageInfoType;
}

/**
 * connectionTypes makes the Relay `<Name>Connection` and `<Name>Edge` types
 * for a node type.
 */
export function connectionTypes<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`, { description: `One ${name} of a page, with its cursor.` })
  class Edge {
    @Field({ description: 'Where this edge is in the list: pass it as `after` or `before`.' })
    cursor!: string;

    @Field(() => node, { description: `The ${name}.` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items (Relay connection).` })
  class Connection {
    @Field(() => [Edge], { description: 'The items of this page, in order.' })
    edges!: Edge[];

    @Field(() => PageInfoType, { description: 'Where this page sits in the whole list.' })
    pageInfo!: PageInfoType;
  }
  return { Edge, Connection };
}

/** toConnection shapes a page of items into a connection, each item's cursor made by cursorOf. */
export function toConnection<T>(
  page: { items: T[]; hasNextPage: boolean; hasPreviousPage: boolean },
  cursorOf: (item: T) => string,
): ConnectionShape<T> {
  const edges = page.items.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
