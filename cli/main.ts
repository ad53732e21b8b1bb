#!/usr/bin/env node
// The operator's command line: `npx fixup <group> <command> [flags]`, also `npm run fixup -- …`.
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { helpText, parseSettings } from '../foundation/service/config.js';
import { accountCommands } from './accounts.js';
import { auditCommands } from './audit.js';
import {
  DatabaseUnreachableError,
  EXIT,
  openDatabase,
  operatorCaller,
  UsageError,
  type CliContext,
  type Command,
  type Flags,
} from './command.js';
import { databaseCommands } from './database.js';
import { keyCommands } from './keys.js';
import { outboxCommands } from './outbox.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMMANDS: Command[] = [
  ...accountCommands,
  ...keyCommands,
  ...outboxCommands,
  ...auditCommands,
  ...databaseCommands,
];

function out(line: string): void {
  process.stdout.write(line + '\n');
}

function err(line: string): void {
  process.stderr.write(line + '\n');
}

function overview(): string {
  const lines = [
    'fixup: the operator command line of Fixup',
    '',
    'Usage: fixup <group> <command> [flags]   (fixup <group> <command> --help for its flags)',
    '',
    'Commands:',
  ];
  for (const c of COMMANDS) lines.push(`  ${`${c.group} ${c.name}`.padEnd(22)} ${c.summary}`);
  lines.push(
    '',
    'Settings: the same environment variables (or flags) as the services, such as USER_DB_URL (--user-db-url),',
    'AUDIT_DB_URL, USER_JWT_KEYS_FILE; with none set, the databases and keys `npm start` made. `fixup settings --help` lists them.',
    '',
    'Exit codes: 0 done; 1 the command found a problem (a broken audit chain, an unknown account, a refused change,',
    'undelivered events, pending migrations); 2 a wrong command line or setting, nothing done; 3 a database could not be reached.',
  );
  return lines.join('\n');
}

function commandHelp(c: Command): string {
  const lines = [
    `fixup ${c.group} ${c.name}: ${c.summary}`,
    '',
    `Usage: fixup ${c.group} ${c.name}${c.flags.map((f) => (f.required ? ` --${f.name}${f.value ? ` <${f.value}>` : ''}` : '')).join('')} [flags]`,
    '',
    'Flags:',
  ];
  for (const f of c.flags)
    lines.push(
      `  --${f.name}${f.value ? ` <${f.value}>` : ''}`.padEnd(44) + ` ${f.doc}${f.required ? ' (required)' : ''}`,
    );
  lines.push(
    '  --help'.padEnd(44) + ' this text',
    '',
    'Settings flags and variables are those of the services: fixup settings --help.',
  );
  return lines.join('\n');
}

/** parseFlags splits a command's own flags from settings flags, which go to the settings parser. */
function parseFlags(c: Command, argv: string[]): { flags: Flags; rest: string[] } {
  const flags: Flags = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const spec = c.flags.find((f) => f.name === name);
    if (!spec) {
      rest.push(arg);
      if (eq < 0 && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) rest.push(argv[++i]!);
      continue;
    }
    if (!spec.value) flags[name] = true;
    else if (eq >= 0) flags[name] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[name] = argv[++i]!;
    else throw new UsageError(`--${name} needs a value <${spec.value}>`);
  }
  for (const f of c.flags)
    if (f.required && (flags[f.name] === undefined || flags[f.name] === true))
      throw new UsageError(`--${f.name} is required`);
  return { flags, rest };
}

/** readSecret prompts without echo on a terminal; otherwise it reads the first line of stdin (a pipe, a file). */
async function readSecret(prompt: string): Promise<string> {
  if (process.stdin.isTTY) {
    let muted = false;
    const output = new Writable({
      write(chunk, _encoding, done) {
        if (!muted) process.stderr.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    const answer = new Promise<string>((resolve) => rl.question(prompt, resolve));
    muted = true;
    const value = await answer;
    rl.close();
    process.stderr.write('\n');
    return value;
  }
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.split(/\r?\n/)[0] ?? '';
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(overview());
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const settingsSpec = async () => (await import('./settings.js')).cliSettingsSpec(ROOT);
  if (argv[0] === 'settings') {
    const spec = await settingsSpec();
    out(
      helpText(spec, "Settings of the fixup command line (the services' own variables; a flag wins over its variable)"),
    );
    return EXIT.ok;
  }
  const [group, name, ...rest] = argv;
  const inGroup = COMMANDS.filter((c) => c.group === group);
  if (inGroup.length === 0) {
    err(`fixup: unknown command group "${group}" (fixup --help lists the commands)`);
    return EXIT.usage;
  }
  const command = inGroup.find((c) => c.name === name);
  if (!command) {
    if (name === '--help' || name === '-h' || name === undefined) {
      out(
        `fixup ${group}: ${inGroup.map((c) => c.name).join(', ')}\n\n${inGroup.map((c) => `  ${group} ${c.name.padEnd(18)} ${c.summary}`).join('\n')}`,
      );
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    err(`fixup: unknown command "${group} ${name}"; ${group} has ${inGroup.map((c) => c.name).join(', ')}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(commandHelp(command));
    return EXIT.ok;
  }
  const opened: DataSource[] = [];
  try {
    const { flags, rest: settingArgs } = parseFlags(command, rest);
    const parsed = parseSettings(await settingsSpec(), settingArgs, process.env, 'fixup');
    if (parsed.kind === 'invalid') {
      err(`fixup ${group} ${name}: invalid settings or flags\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`);
      return EXIT.usage;
    }
    if (parsed.kind === 'help') {
      out(commandHelp(command));
      return EXIT.ok;
    }
    const ctx: CliContext = {
      root: ROOT,
      settings: parsed.values,
      caller: operatorCaller(),
      out,
      err,
      readSecret,
      async database(subgraph, entities, migrations, as) {
        const db = await openDatabase(parsed.values, subgraph, entities, migrations, as);
        opened.push(db);
        return db;
      },
    };
    return await command.run(ctx, flags);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`fixup ${group} ${name}: ${e.message} (see fixup ${group} ${name} --help)`);
      return EXIT.usage;
    }
    if (e instanceof DatabaseUnreachableError) {
      err(`fixup ${group} ${name}: ${e.message}`);
      return EXIT.unreachable;
    }
    err(`fixup ${group} ${name}: failed: ${(e as Error).message}`);
    return EXIT.failed;
  } finally {
    await Promise.all(opened.map((db) => db.destroy().catch(() => {})));
  }
}

process.exitCode = await main(process.argv.slice(2));
