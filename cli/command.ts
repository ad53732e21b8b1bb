import { hostname, userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Caller } from '../contracts/caller.js';
import type { MigrationClass } from '../foundation/postgres/database.js';
import type { SubgraphName } from './names.js';

/** EXIT are the command line's exit codes. */
export const EXIT = {
  /** ok: the command did what was asked. */
  ok: 0,
  /** failed: the command ran and found a problem (a broken audit chain, an unknown account, undelivered events). */
  failed: 1,
  /** usage: the command line or a setting is wrong; nothing was done. */
  usage: 2,
  /** unreachable: a database or service could not be reached. */
  unreachable: 3,
} as const;

/** FlagSpec is one flag of a command. */
export interface FlagSpec {
  name: string;
  doc: string;
  /** value names the flag's value in help (`--email <address>`); none means a switch. */
  value?: string;
  required?: boolean;
}

/** Flags are a command's parsed flags: a value, or true for a switch. */
export type Flags = Record<string, string | true | undefined>;

/** Command is one operator command: `fixup <group> <name> [flags]`. */
export interface Command {
  group: string;
  name: string;
  summary: string;
  flags: FlagSpec[];
  run(ctx: CliContext, flags: Flags): Promise<number>;
}

/** UsageError is a mistake on the command line: it is printed with a pointer to --help, and the exit code is 2. */
export class UsageError extends Error {}

/** Output is where a command writes: results to out, progress and problems to err. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** CliContext is what a command gets: settings, output, input, and the subgraphs' databases. */
export interface CliContext extends Output {
  root: string;
  settings: Record<string, unknown>;
  /** caller is the operator as audit events record them: no user, the OS account and host as user agent. */
  caller: Caller;
  /** readSecret reads a secret: prompted without echo on a terminal, else the first line of stdin. */
  readSecret(prompt: string): Promise<string>;
  /**
   * database opens a subgraph's database as its runtime role, or as the role that migrates it (closed when the command
   * ends).
   */
  database(
    name: SubgraphName,
    entities: Function[],
    migrations: MigrationClass[],
    as?: DatabaseRole,
  ): Promise<DataSource>;
}

/** operatorCaller is how the command line appears in audit events. */
export function operatorCaller(): Caller {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // Some containers run as a uid with no name: the host still says where it ran.
  }
  return { viewer: null, ip: null, userAgent: `fixup-cli (${user}@${hostname()})`, requestId: `cli-${randomUUID()}` };
}

/** DatabaseUnreachableError says a subgraph's database did not answer. */
export class DatabaseUnreachableError extends Error {}

/**
 * DatabaseRole is who a command connects as: the service's runtime role, or the migrating role (acting as the owner).
 */
export type DatabaseRole = 'runtime' | 'migrator';

/** openDatabase opens a subgraph's database with the service's own settings. */
export async function openDatabase(
  settings: Record<string, unknown>,
  name: SubgraphName,
  entities: Function[],
  migrations: MigrationClass[],
  as: DatabaseRole = 'runtime',
): Promise<DataSource> {
  // Loaded here, not at start: `--help` stays quick without TypeORM and the services' modules.
  const [{ createLogger }, { createDataSource }, { withPassword }, { subgraphValue }] = await Promise.all([
    import('../foundation/telemetry/logger.js'),
    import('../foundation/postgres/database.js'),
    import('../foundation/service/subgraph-service.js'),
    import('./settings.js'),
  ]);
  const url =
    as === 'migrator'
      ? withPassword(
          subgraphValue<string>(settings, name, 'dbMigrateUrl'),
          subgraphValue<string>(settings, name, 'dbMigratePasswordFile'),
        )
      : withPassword(
          subgraphValue<string>(settings, name, 'dbUrl'),
          subgraphValue<string>(settings, name, 'dbPasswordFile'),
        );
  const dataSource = createDataSource({
    url,
    entities,
    migrations,
    logger: createLogger({ service: `fixup-cli-${name}`, level: 'silent' }),
    poolSize: 4,
    applicationName: 'fixup-cli',
    statementTimeoutMs: subgraphValue<number>(settings, name, 'dbStatementTimeoutMs'),
  });
  try {
    await dataSource.initialize();
  } catch (err) {
    throw new DatabaseUnreachableError(`the ${name} database could not be reached: ${(err as Error).message}`);
  }
  return dataSource;
}
