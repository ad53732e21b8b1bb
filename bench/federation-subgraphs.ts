// node dist/bench/federation-subgraphs.js
// Serves the four subgraphs of The Guild's federation gateway benchmark
// (accounts, inventory, products, reviews) from memory, each on a free port,
// and prints one JSON line naming their URLs. npm run bench:gateway starts it;
// any gateway can be measured against it the same way.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

/** User, Product and Review are the benchmark's data, made once in memory. */
interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}
interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
  inStock: boolean;
}
interface Review {
  id: string;
  body: string;
  authorId: string;
  productUpc: string;
}

const USERS: User[] = Array.from({ length: 10 }, (_, i) => ({
  id: String(i + 1),
  name: `User ${i + 1}`,
  username: `user${i + 1}`,
  birthday: 1_000_000 + i,
}));
const PRODUCTS: Product[] = Array.from({ length: 10 }, (_, i) => ({
  upc: String(i + 1),
  name: `Product ${i + 1}`,
  price: 100 * (i + 1),
  weight: 10 + i,
  inStock: i % 3 !== 0,
}));
// Four reviews per product, four per user: enough nesting for the heavy query to fan out as in the original.
const REVIEWS: Review[] = Array.from({ length: 40 }, (_, i) => ({
  id: String(i + 1),
  body: `Review ${i + 1} of product ${(i % 10) + 1}`,
  authorId: String((Math.floor(i / 4) % 10) + 1),
  productUpc: String((i % 10) + 1),
}));

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

/** SUBGRAPHS are the benchmark's subgraph schemas with their resolvers over the data above. */
export const SUBGRAPHS: Record<string, { typeDefs: string; resolvers: Record<string, unknown> }> = {
  accounts: {
    typeDefs: `${LINK}
      type Query { me: User  user(id: ID!): User  users: [User] }
      type User @key(fields: "id") { id: ID!  name: String  username: String @shareable  birthday: Int }`,
    resolvers: {
      Query: {
        me: () => USERS[0],
        user: (_: unknown, { id }: { id: string }) => USERS.find((u) => u.id === id),
        users: () => USERS,
      },
      User: { __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id) },
    },
  },
  inventory: {
    typeDefs: `${LINK}
      type Product @key(fields: "upc") { upc: String!  weight: Int @external  price: Int @external  inStock: Boolean  shippingEstimate: Int @requires(fields: "price weight") }`,
    resolvers: {
      Product: {
        __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ({
          ...ref,
          inStock: PRODUCTS.find((p) => p.upc === ref.upc)?.inStock ?? false,
        }),
        // Free for expensive items, otherwise half the weight, as in the original.
        shippingEstimate: (p: { price: number; weight: number }) => (p.price > 1000 ? 0 : Math.round(p.weight * 0.5)),
      },
    },
  },
  products: {
    typeDefs: `${LINK}
      type Query { topProducts(first: Int = 5): [Product] }
      type Product @key(fields: "upc") { upc: String!  name: String  price: Int  weight: Int }`,
    resolvers: {
      Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
      Product: { __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc) },
    },
  },
  reviews: {
    typeDefs: `${LINK}
      type Review @key(fields: "id") { id: ID!  body: String  author: User @provides(fields: "username")  product: Product }
      type User @key(fields: "id") { id: ID!  username: String @external  reviews: [Review] }
      type Product @key(fields: "upc") { upc: String!  reviews: [Review] }`,
    resolvers: {
      Review: {
        __resolveReference: (ref: { id: string }) => REVIEWS.find((r) => r.id === ref.id),
        author: (r: Review) => ({
          __typename: 'User',
          id: r.authorId,
          username: USERS.find((u) => u.id === r.authorId)?.username,
        }),
        product: (r: Review) => ({ __typename: 'Product', upc: r.productUpc }),
      },
      User: { reviews: (u: { id: string }) => REVIEWS.filter((r) => r.authorId === u.id) },
      Product: { reviews: (p: { upc: string }) => REVIEWS.filter((r) => r.productUpc === p.upc) },
    },
  },
};

/** serve answers GraphQL over HTTP from one schema, caching each document once parsed and validated. */
function serve(schema: GraphQLSchema): (req: IncomingMessage, res: ServerResponse) => void {
  const documents = new Map<string, DocumentNode>();
  return (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        query: string;
        variables?: Record<string, unknown>;
        operationName?: string;
      };
      let document = documents.get(body.query);
      if (!document) {
        document = parse(body.query);
        const errors = validate(schema, document);
        if (errors.length > 0) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors }));
          return;
        }
        documents.set(body.query, document);
      }
      const result = await execute({
        schema,
        document,
        variableValues: body.variables,
        operationName: body.operationName,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  };
}

/** startSubgraphs serves every subgraph on a free port of 127.0.0.1 and gives their URLs by name. */
export async function startSubgraphs(): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const [name, { typeDefs, resolvers }] of Object.entries(SUBGRAPHS)) {
    const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as never });
    const server = createServer(serve(schema));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  }
  return urls;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify({ subgraphs: await startSubgraphs() }) + '\n');
}
