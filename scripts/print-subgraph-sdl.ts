// Prints one subgraph's SDL, built from its code. It runs in a process of its
// own per subgraph because type-graphql keeps its metadata in one global store.
import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { subgraphSdl } from '../foundation/graphql/subgraph-schema.js';
import { SUBGRAPHS } from './services.js';

const name = process.argv[2];
const entry = SUBGRAPHS.find((s) => s.name === name);
if (!entry) {
  process.stderr.write(`usage: print-subgraph-sdl <${SUBGRAPHS.map((s) => s.name).join('|')}>\n`);
  process.exit(2);
}
const module = (await import(new URL(`../${entry.schemaModule}`, import.meta.url).href)) as Record<
  string,
  () => Promise<GraphQLSchema>
>;
process.stdout.write(subgraphSdl(await module[entry.build]!()));
