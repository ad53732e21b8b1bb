import { Directive, Field, ObjectType, type ClassType } from 'type-graphql';

/** PageInfoType is the Relay `PageInfo`, shared by every subgraph that serves connections. */
@ObjectType('PageInfo')
@Directive('@shareable')
export class PageInfoType {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
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
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfoType)
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
