// The frontends' registered operations: the documents in schema/operations/
// and the manifest made from them, in the shape of Apollo's persisted query
// manifest, that the gateway loads to run operations by id.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { ROOT } from './supergraph.js';

/** OPERATIONS_DIR is where the registered operations live, relative to the repository's root. */
export const OPERATIONS_DIR = 'schema/operations';

/** MANIFEST_FILE is the generated manifest of the registered operations, relative to the repository's root. */
export const MANIFEST_FILE = 'schema/persisted-query-manifest.json';

/** RegisteredOperation is one frontend operation as a frontend sends it, with where it is written. */
export interface RegisteredOperation {
  /** id is the lowercase hex sha256 of `body`. */
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  /** body is the operation and the fragments it uses, printed by graphql-js: exactly what a frontend sends. */
  body: string;
  /** file is the operation's file, relative to the repository's root. */
  file: string;
  /** line is the operation's first line in its file. */
  line: number;
  /** definition is the parsed operation, with locations in its file. */
  definition: OperationDefinitionNode;
  /** fragments are the fragment definitions the operation uses, with locations in their file. */
  fragments: FragmentDefinitionNode[];
}

/** PersistedQueryManifest is Apollo's persisted query manifest format, with each operation's source file added. */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: string; body: string; file: string }[];
}

/** operationId is the id of a document body: its lowercase hex sha256. */
export function operationId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * usedFragments lists, in order of first use, the fragments a definition uses, following fragments that use fragments.
 */
function usedFragments(
  definition: OperationDefinitionNode | FragmentDefinitionNode,
  all: Map<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FragmentDefinitionNode[] {
  const found: FragmentDefinitionNode[] = [];
  visit(definition, {
    FragmentSpread(node) {
      const name = node.name.value;
      if (seen.has(name)) return;
      const fragment = all.get(name);
      if (!fragment) throw new Error(`fragment ${name} is not defined in the registered operations`);
      seen.add(name);
      found.push(fragment, ...usedFragments(fragment, all, seen));
    },
  });
  return found;
}

/** readOperations reads every registered operation under `dir` (fragments may be shared across files). */
export function readOperations(root = ROOT, dir = OPERATIONS_DIR): RegisteredOperation[] {
  const files = readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  const documents = files.map((f) => ({
    file: `${dir}/${f}`,
    document: parse(readFileSync(join(root, dir, f), 'utf8')),
  }));
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { document } of documents) {
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  }
  const operations: RegisteredOperation[] = [];
  const names = new Set<string>();
  for (const { file, document } of documents) {
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const name = definition.name?.value;
      if (!name) throw new Error(`${file}: every registered operation needs a name`);
      if (names.has(name)) throw new Error(`${file}: operation ${name} is registered twice`);
      names.add(name);
      const used = usedFragments(definition, fragments);
      const body = print({ kind: Kind.DOCUMENT, definitions: [definition, ...used] } as DocumentNode);
      operations.push({
        id: operationId(body),
        name,
        type: definition.operation,
        body,
        file,
        line: definition.loc?.startToken.line ?? 1,
        definition,
        fragments: used,
      });
    }
  }
  return operations;
}

/** buildManifest makes the manifest text of the registered operations. */
export function buildManifest(operations: RegisteredOperation[]): string {
  const manifest: PersistedQueryManifest = {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: operations.map(({ id, name, type, body, file }) => ({ id, name, type, body, file })),
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}
