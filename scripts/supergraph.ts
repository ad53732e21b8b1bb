import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);

/** ROOT is the repository's root folder. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** RoverSubgraph is one entry of rover.yaml's `subgraphs`. */
export interface RoverSubgraph {
  name: string;
  routingUrl: string;
  schemaFile: string;
}

/** readRoverConfig reads the subgraph list from rover.yaml (rover's supergraph config format). */
export async function readRoverConfig(root = ROOT): Promise<{ federationVersion: string; subgraphs: RoverSubgraph[] }> {
  const config = parseYaml(await readFile(join(root, 'rover.yaml'), 'utf8')) as {
    federation_version: string;
    subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
  };
  return {
    federationVersion: config.federation_version,
    subgraphs: Object.entries(config.subgraphs).map(([name, s]) => ({
      name,
      routingUrl: s.routing_url,
      schemaFile: s.schema.file,
    })),
  };
}

/** printSubgraphSdl builds one subgraph's SDL from its code, in a process of its own. */
export async function printSubgraphSdl(name: string): Promise<string> {
  const script = fileURLToPath(new URL('./print-subgraph-sdl.js', import.meta.url));
  const { stdout } = await run(process.execPath, [script, name], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Composition is the outcome of composing the subgraphs. */
export interface Composition {
  supergraphSdl?: string;
  errors: string[];
  hints: { code: string; message: string }[];
}

/** compose composes subgraph SDLs into the supergraph with @apollo/composition, as `rover supergraph compose` does. */
export function compose(subgraphs: { name: string; url: string; sdl: string }[]): Composition {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors) return { errors: result.errors.map((e) => e.message), hints: [] };
  return {
    supergraphSdl: result.supergraphSdl.trim() + '\n',
    errors: [],
    hints: (result.hints ?? []).map((h) => ({ code: h.definition.code, message: h.message })),
  };
}

/** IGNORED_HINTS are composition hints that say nothing wrong about Fixup's schema (none so far). */
export const IGNORED_HINTS: ReadonlySet<string> = new Set<string>();

/** generateSchemas builds every subgraph's SDL and the supergraph, from code and rover.yaml. */
export async function generateSchemas(root = ROOT): Promise<{ files: Map<string, string>; composition: Composition }> {
  const { subgraphs } = await readRoverConfig(root);
  const sdls = await Promise.all(subgraphs.map(async (s) => ({ ...s, sdl: await printSubgraphSdl(s.name) })));
  const files = new Map<string, string>();
  for (const s of sdls) files.set(s.schemaFile.replace(/^\.\//, ''), s.sdl);
  const composition = compose(sdls.map((s) => ({ name: s.name, url: s.routingUrl, sdl: s.sdl })));
  if (composition.supergraphSdl) files.set('schema/supergraph.graphql', composition.supergraphSdl);
  return { files, composition };
}
