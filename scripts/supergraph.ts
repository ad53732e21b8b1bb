import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse, Source, type ASTNode, type GraphQLError } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { serviceUrl, SUBGRAPH_NAMES } from '../contracts/services.js';

const run = promisify(execFile);

/** ROOT is the repository's root folder. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** RoverSubgraph is one entry of rover.yaml's `subgraphs`. */
export interface RoverSubgraph {
  name: string;
  routingUrl: string;
  schemaFile: string;
}

/** RoverConfig is rover.yaml's content that Fixup uses: the federation version and the subgraphs. */
export interface RoverConfig {
  federationVersion: string;
  subgraphs: RoverSubgraph[];
}

/**
 * parseRoverConfig reads rover's supergraph config format (rover.yaml). Fixup's subgraphs give their schema
 * as a file, so an entry that names its schema another way (introspection, a graph ref) is refused.
 */
export function parseRoverConfig(text: string): RoverConfig {
  const config = parseYaml(text) as {
    federation_version?: unknown;
    subgraphs?: Record<string, { routing_url?: unknown; schema?: { file?: unknown } }>;
  } | null;
  if (!config || typeof config.subgraphs !== 'object' || config.subgraphs === null) {
    throw new Error('rover.yaml has no `subgraphs` map');
  }
  return {
    federationVersion: String(config.federation_version ?? ''),
    subgraphs: Object.entries(config.subgraphs).map(([name, s]) => {
      if (typeof s?.schema?.file !== 'string') throw new Error(`rover.yaml: subgraph ${name} has no schema.file`);
      if (typeof s.routing_url !== 'string') throw new Error(`rover.yaml: subgraph ${name} has no routing_url`);
      return { name, routingUrl: s.routing_url, schemaFile: s.schema.file };
    }),
  };
}

/** FEDERATION_VERSION is the composition version rover.yaml pins. */
export const FEDERATION_VERSION = '=2.14.4';

/**
 * roverYaml is rover.yaml as `npm run schema` writes it, from the subgraph
 * list and default ports of contracts/services.ts: the file rover and the
 * composition read, never edited by hand.
 */
export function roverYaml(): string {
  return [
    "# Rover's supergraph config, written by `npm run schema` from contracts/services.ts",
    '# (do not edit). `npm run schema` composes with @apollo/composition from it;',
    '# `rover supergraph compose --config rover.yaml` gives the same supergraph.',
    `federation_version: ${FEDERATION_VERSION}`,
    'subgraphs:',
    ...SUBGRAPH_NAMES.flatMap((name) => [
      `  ${name}:`,
      `    routing_url: ${serviceUrl(name)}/graphql`,
      '    schema:',
      `      file: ./schema/${name}.graphql`,
    ]),
    '',
  ].join('\n');
}

/** readRoverConfig reads the subgraph list from rover.yaml (rover's supergraph config format). */
export async function readRoverConfig(root = ROOT): Promise<RoverConfig> {
  return parseRoverConfig(await readFile(join(root, 'rover.yaml'), 'utf8'));
}

/** printSubgraphSdl builds one subgraph's SDL from its code, in a process of its own. */
export async function printSubgraphSdl(name: string): Promise<string> {
  const script = fileURLToPath(new URL('./print-subgraph-sdl.js', import.meta.url));
  const { stdout } = await run(process.execPath, [script, name], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** SdlLocation is a place in a subgraph's SDL file. */
export interface SdlLocation {
  /** subgraph is the subgraph whose SDL it is, when known. */
  subgraph?: string;
  file: string;
  line: number;
  column: number;
}

/** CompositionMessage is one composition error or hint, with its code and the SDL places it is about. */
export interface CompositionMessage {
  code: string;
  message: string;
  locations: SdlLocation[];
}

/** Composition is the outcome of composing the subgraphs. */
export interface Composition {
  supergraphSdl?: string;
  errors: CompositionMessage[];
  hints: CompositionMessage[];
}

/** ComposableSubgraph is one subgraph's SDL and routing URL; `file` names the SDL in locations. */
export interface ComposableSubgraph {
  name: string;
  url?: string;
  sdl: string;
  file?: string;
}

/** locationsOf gives the SDL places of AST nodes parsed from named sources (the source name is the file). */
function locationsOf(nodes: readonly ASTNode[] | undefined, subgraphOfFile: Map<string, string>): SdlLocation[] {
  return (nodes ?? []).flatMap((node) => {
    if (!node.loc) return [];
    const file = node.loc.source.name;
    return [
      { subgraph: subgraphOfFile.get(file), file, line: node.loc.startToken.line, column: node.loc.startToken.column },
    ];
  });
}

/**
 * compose composes subgraph SDLs into the supergraph with @apollo/composition, as `rover supergraph compose` does.
 * A subgraph that is not valid GraphQL is a composition error (INVALID_GRAPHQL, as rover reports it).
 */
export function compose(subgraphs: ComposableSubgraph[]): Composition {
  const subgraphOfFile = new Map(subgraphs.map((s) => [s.file ?? s.name, s.name]));
  const parsed = [];
  const errors: CompositionMessage[] = [];
  for (const s of subgraphs) {
    try {
      parsed.push({ name: s.name, url: s.url, typeDefs: parse(new Source(s.sdl, s.file ?? s.name)) });
    } catch (error) {
      const e = error as GraphQLError;
      const at = e.locations?.[0];
      errors.push({
        code: 'INVALID_GRAPHQL',
        message: `[${s.name}] ${e.message}`,
        locations: at ? [{ subgraph: s.name, file: s.file ?? s.name, line: at.line, column: at.column }] : [],
      });
    }
  }
  if (errors.length > 0) return { errors, hints: [] };
  const result = composeServices(parsed);
  const message = (e: GraphQLError, code: string): CompositionMessage => ({
    code,
    message: e.message,
    locations: locationsOf(e.nodes, subgraphOfFile),
  });
  if (result.errors) {
    return {
      errors: result.errors.map((e) => message(e, String(e.extensions?.code ?? 'COMPOSITION_ERROR'))),
      hints: [],
    };
  }
  return {
    supergraphSdl: result.supergraphSdl.trim() + '\n',
    errors: [],
    hints: (result.hints ?? []).map((h) => ({
      code: h.definition.code,
      message: h.message,
      locations: locationsOf(h.nodes as ASTNode[] | undefined, subgraphOfFile),
    })),
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
  const composition = compose(
    sdls.map((s) => ({ name: s.name, url: s.routingUrl, sdl: s.sdl, file: s.schemaFile.replace(/^\.\//, '') })),
  );
  if (composition.supergraphSdl) files.set('schema/supergraph.graphql', composition.supergraphSdl);
  return { files, composition };
}
