// The command line of npm run schema:check: reads its options, gathers the
// proposed subgraph schemas and the base (the merge base with main by default)
// from the working tree, git or files, and runs the check.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { readOperations } from './operations.js';
import { checkSchemas, formatReport, type CheckBase, type CheckSubgraph } from './schema-check-report.js';
import { parseRoverConfig, printSubgraphSdl, ROOT, type RoverConfig } from './supergraph.js';

const run = promisify(execFile);

/** SCHEMA_CHECK_USAGE is the check's --help text. */
export const SCHEMA_CHECK_USAGE = `usage: npm run schema:check -- [options]

Checks the proposed subgraph schemas: composition errors and hints, the API
schema's changes classified breaking / dangerous / safe, and every registered
operation in schema/operations/ against the proposed schema.

  (no option)             the subgraphs built from the working tree's code, against the merge base with main
  --subgraph <name>       check one proposed subgraph SDL file against the committed schemas
  --schema <file>         that subgraph's proposed SDL (with --subgraph); a new name proposes a new subgraph
  --routing-url <url>     a new subgraph's routing URL (with --subgraph)
  --files                 take the SDL files rover.yaml names as they are, instead of building them from code
  --base <git-ref>        compare with the schema files committed at this ref
  --base-supergraph <f>   compare with this composed supergraph file
  --dir <path>            the repository to check (default: this one); needs --files or --subgraph
  --strict                also fail on breaking changes no registered operation uses, and on composition hints
  --json                  print the report as JSON
  --help                  print this

Exit status: 0 passes, 1 fails, 2 could not run (with a one-line reason).`;

/** CannotRun is a check that could not run: a bad file, an unknown ref, a bad option. */
class CannotRun extends Error {}

/** git runs a git command in the repository and gives its output, or undefined when it fails. */
async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['-C', dir, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch {
    return undefined;
  }
}

/** fileOf turns a rover.yaml schema path into a path relative to the repository's root. */
function fileOf(schemaFile: string): string {
  return schemaFile.replace(/^\.\//, '');
}

/** readText reads a file, refusing to run when it cannot. */
async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CannotRun(
      `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** roverConfig parses rover.yaml's text, refusing to run on a bad one. */
function roverConfig(text: string, where: string): RoverConfig {
  try {
    return parseRoverConfig(text);
  } catch (error) {
    throw new CannotRun(`bad rover.yaml ${where}: ${(error as Error).message}`);
  }
}

/** filesOnDisk reads the subgraph SDL files rover.yaml names, as they are in the working tree. */
async function filesOnDisk(dir: string, config: RoverConfig): Promise<CheckSubgraph[]> {
  return Promise.all(
    config.subgraphs.map(async (s) => ({
      name: s.name,
      url: s.routingUrl,
      file: fileOf(s.schemaFile),
      sdl: await readText(join(dir, fileOf(s.schemaFile)), `subgraph ${s.name}'s SDL`),
    })),
  );
}

/** filesAtRef reads rover.yaml and the subgraph SDL files committed at a git commit. */
async function filesAtRef(dir: string, commit: string, label: string): Promise<CheckSubgraph[]> {
  const text = await git(dir, ['show', `${commit}:rover.yaml`]);
  if (text === undefined) throw new CannotRun(`rover.yaml is not committed at ${label}`);
  const config = roverConfig(text, `at ${label}`);
  return Promise.all(
    config.subgraphs.map(async (s) => {
      const sdl = await git(dir, ['show', `${commit}:${fileOf(s.schemaFile)}`]);
      if (sdl === undefined) throw new CannotRun(`${fileOf(s.schemaFile)} is not committed at ${label}`);
      return { name: s.name, url: s.routingUrl, file: fileOf(s.schemaFile), sdl };
    }),
  );
}

/** defaultBase finds the merge base with main (or origin/main), falling back to HEAD, then to the files on disk. */
async function defaultBase(dir: string, onDisk: () => Promise<CheckSubgraph[]>, notes: string[]): Promise<CheckBase> {
  for (const branch of ['main', 'origin/main']) {
    const commit = (await git(dir, ['merge-base', 'HEAD', branch]))?.trim();
    if (commit) {
      return {
        kind: 'subgraphs',
        description: `the merge base with ${branch} (${commit.slice(0, 10)})`,
        subgraphs: await filesAtRef(dir, commit, branch),
      };
    }
  }
  const head = (await git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))?.trim();
  if (head) {
    notes.push('no main branch to find a merge base with: the base is HEAD');
    return {
      kind: 'subgraphs',
      description: `HEAD (${head.slice(0, 10)})`,
      subgraphs: await filesAtRef(dir, head, 'HEAD'),
    };
  }
  notes.push('not a git repository: the base is the committed schema files as they are on disk');
  return { kind: 'subgraphs', description: 'the schema files on disk', subgraphs: await onDisk() };
}

/** check parses the options, gathers the proposed schemas and the base, and runs the check. */
async function check(args: string[]): Promise<{ code: number; stdout: string }> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        subgraph: { type: 'string' },
        schema: { type: 'string' },
        'routing-url': { type: 'string' },
        files: { type: 'boolean', default: false },
        base: { type: 'string' },
        'base-supergraph': { type: 'string' },
        dir: { type: 'string' },
        strict: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      args,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CannotRun((error as Error).message);
  }
  if (values.help) {
    return { code: 0, stdout: SCHEMA_CHECK_USAGE + '\n' };
  }
  if ((values.subgraph === undefined) !== (values.schema === undefined))
    throw new CannotRun('--subgraph and --schema go together');
  if (values['routing-url'] !== undefined && values.subgraph === undefined)
    throw new CannotRun('--routing-url goes with --subgraph');
  if (values.base !== undefined && values['base-supergraph'] !== undefined)
    throw new CannotRun('give --base or --base-supergraph, not both');
  const dir = resolve(values.dir ?? ROOT);
  const fromCode = !values.files && values.subgraph === undefined;
  if (fromCode && resolve(dir) !== resolve(ROOT))
    throw new CannotRun('--dir checks SDL files: add --files or --subgraph');

  const config = roverConfig(await readText(join(dir, 'rover.yaml'), 'the supergraph config'), `in ${dir}`);
  const notes: string[] = [];
  const onDisk = () => filesOnDisk(dir, config);

  let proposed: CheckSubgraph[];
  let description: string;
  if (values.subgraph !== undefined) {
    const file = resolve(process.cwd(), values.schema!);
    const sdl = await readText(file, 'the proposed schema');
    const shown = relative(dir, file);
    const entry = { name: values.subgraph, file: shown.startsWith('..') || isAbsolute(shown) ? file : shown, sdl };
    const others = await onDisk();
    const existing = others.find((s) => s.name === values.subgraph);
    if (existing) {
      proposed = others.map((s) => (s === existing ? { ...entry, url: values['routing-url'] ?? existing.url } : s));
      description = `subgraph ${values.subgraph} from ${entry.file} with the committed schemas`;
    } else {
      proposed = [...others, { ...entry, url: values['routing-url'] ?? `http://${values.subgraph}.invalid/graphql` }];
      description = `the new subgraph ${values.subgraph} from ${entry.file} with the committed schemas`;
    }
  } else if (values.files) {
    proposed = await onDisk();
    description = 'the schema files in the working tree';
  } else {
    proposed = await Promise.all(
      config.subgraphs.map(async (s) => {
        const sdl = await printSubgraphSdl(s.name).catch((error: Error) => {
          throw new CannotRun(
            `cannot build subgraph ${s.name}'s SDL from code (run npm run build): ${error.message.split('\n')[0]}`,
          );
        });
        return { name: s.name, url: s.routingUrl, file: fileOf(s.schemaFile), sdl };
      }),
    );
    description = "the subgraphs built from the working tree's code";
    for (const s of proposed) {
      const committed = await readFile(join(dir, s.file), 'utf8').catch(() => undefined);
      if (committed !== s.sdl)
        notes.push(`${s.file} differs from what the code builds: run npm run schema and commit it`);
    }
  }

  let base: CheckBase;
  if (values['base-supergraph'] !== undefined) {
    const file = resolve(process.cwd(), values['base-supergraph']);
    base = {
      kind: 'supergraph',
      description: `the supergraph ${values['base-supergraph']}`,
      file: values['base-supergraph'],
      sdl: await readText(file, 'the base supergraph'),
    };
  } else if (values.base !== undefined) {
    const commit = (await git(dir, ['rev-parse', '--verify', '--quiet', `${values.base}^{commit}`]))?.trim();
    if (!commit) throw new CannotRun(`unknown git ref ${values.base}`);
    base = {
      kind: 'subgraphs',
      description: `${values.base} (${commit.slice(0, 10)})`,
      subgraphs: await filesAtRef(dir, commit, values.base),
    };
  } else if (values.subgraph !== undefined) {
    base = { kind: 'subgraphs', description: 'the committed schemas', subgraphs: await onDisk() };
  } else {
    base = await defaultBase(dir, onDisk, notes);
  }

  let operations;
  try {
    operations = readOperations(dir);
  } catch (error) {
    throw new CannotRun(`cannot read the registered operations: ${(error as Error).message.split('\n')[0]}`);
  }
  let report;
  try {
    report = await checkSchemas({ description, proposed, base, operations, strict: values.strict, notes });
  } catch (error) {
    throw new CannotRun((error as Error).message.split('\n')[0]!);
  }
  return {
    code: report.passed ? 0 : 1,
    stdout: values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report),
  };
}

/** SchemaCheckOutcome is one run of the check: its exit status and what it prints. */
export interface SchemaCheckOutcome {
  /** code is 0 when the check passes, 1 when it fails, 2 when it could not run. */
  code: number;
  stdout: string;
  stderr: string;
}

/** runSchemaCheck runs `schema:check` with command-line arguments; file paths are relative to the current folder. */
export async function runSchemaCheck(args: string[]): Promise<SchemaCheckOutcome> {
  try {
    return { ...(await check(args)), stderr: '' };
  } catch (error) {
    // Whatever stops the check is "could not run" (2), never "fails" (1), so that a tool can tell them apart.
    const reason = (error as Error).message.split('\n')[0];
    return {
      code: 2,
      stdout: args.includes('--json') ? JSON.stringify({ passed: false, error: reason }) + '\n' : '',
      stderr: `schema:check could not run: ${reason}\n${error instanceof CannotRun ? '' : `${(error as Error).stack}\n`}`,
    };
  }
}
