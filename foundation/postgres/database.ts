import { createRequire } from 'node:module';
import pg from 'pg';
import {
  DataSource,
  Raw,
  type EntityTarget,
  type FindOperator,
  type Logger as TypeormLogger,
  type MigrationInterface,
  type ObjectLiteral,
  type QueryRunner,
} from 'typeorm';
import type { Logger } from '../telemetry/logger.js';
import { observeStatement } from '../telemetry/metrics.js';
import { currentScope } from '../http/request-context.js';
import { pgTypes } from './timestamps.js';

/** MigrationClass is a TypeORM migration listed explicitly by a subgraph. */
export type MigrationClass = new () => MigrationInterface;

/** DatabaseOptions configures a subgraph's connection pool on its own database. */
export interface DatabaseOptions {
  url: string;
  entities: Function[];
  migrations: MigrationClass[];
  logger: Logger;
  poolSize: number;
  applicationName: string;
  statementTimeoutMs: number;
  /**
   * connectTimeoutMs is how long a statement waits for a free connection (or a new one) before it fails; default 3000.
   */
  connectTimeoutMs?: number;
  /**
   * onStatement, when set, hears every SQL statement (tests count them), and whether it was sent on a query runner
   * marked as background work (markBackground).
   */
  onStatement?: (sql: string, background: boolean) => void;
  /**
   * preparedStatements is how many distinct parameterized statements are sent as named prepared statements, which each
   * connection parses and plans once; 0 (the default) sends every statement unnamed, as a connection pooler in
   * transaction mode needs.
   */
  preparedStatements?: number;
}

/** MIGRATIONS_TABLE is where each database records the migrations it has run. */
export const MIGRATIONS_TABLE = 'typeorm_migrations';

/**
 * StatementNames names the parameterized statements a process sends, so that each connection has PostgreSQL parse and
 * plan each of them once (a named prepared statement) rather than on every execution. At most `limit` texts get a
 * name; later ones go unnamed, as before, so a connection never holds more than that many.
 */
class StatementNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly limit: number) {}
  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= this.limit) return known;
    const name = `fixup_${this.names.size}`;
    this.names.set(text, name);
    return name;
  }
}

/**
 * timedClient makes the pool's pg client class. It times every statement for the fixup_db_statement_duration_seconds
 * histogram (TypeORM's logger hears a statement only before it runs, so the time is taken here), and sends each
 * parameterized statement that `names` names as a named prepared statement.
 */
function timedClient(pgModule: typeof pg, names: StatementNames | undefined): typeof pg.Client {
  return class TimedClient extends pgModule.Client {
    override query(...args: unknown[]): never {
      const [first, values] = args;
      let text: string | undefined;
      if (typeof first === 'string') {
        text = first;
        const name = names && Array.isArray(values) && values.length > 0 ? names.nameOf(text) : undefined;
        if (name !== undefined) args = [{ name, text, values }, ...args.slice(2)];
      } else if (typeof (first as { text?: unknown })?.text === 'string') text = (first as { text: string }).text;
      const started = process.hrtime.bigint();
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (text !== undefined && result instanceof Promise) {
        const done = () => observeStatement(text, Number(process.hrtime.bigint() - started) / 1e9);
        result.then(done, done);
      }
      return result as never;
    }
  };
}

class PinoTypeormLogger implements TypeormLogger {
  constructor(
    private readonly logger: Logger,
    private readonly onStatement?: (sql: string, background: boolean) => void,
  ) {}
  logQuery(query: string, _parameters?: unknown[], queryRunner?: QueryRunner): void {
    const background = queryRunner?.data?.[BACKGROUND] === true;
    const scope = background ? undefined : currentScope();
    if (scope) scope.statements = (scope.statements ?? 0) + 1;
    this.onStatement?.(query, background);
  }
  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ err: error, query }, 'query failed');
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ ms: time, query }, 'slow query');
  }
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.logger.info({ migration: message }, 'migration');
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn({ message }, 'typeorm');
  }
}

const BACKGROUND = 'fixup.background';

/**
 * markBackground marks a query runner's statements as background work (an outbox relay's polls, say), so that they are
 * counted apart from requests' whether or not requests are followed through their awaits.
 */
export function markBackground(runner: QueryRunner): QueryRunner {
  runner.data = { ...runner.data, [BACKGROUND]: true };
  return runner;
}

/**
 * createDataSource makes a subgraph's TypeORM data source. It never
 * synchronizes the schema: only the listed migrations change it.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  // TypeORM makes the pool from the `driver` module it is given (a documented option): this one is pg with a Pool that
  // remembers which DataSource it serves, so poolOf can read its counts without reaching into the driver.
  // Required here, not only imported: the PostgreSQL instrumentation (installed by startTelemetry, after the imports)
  // patches pg when it is required, as TypeORM would have required it.
  const pgModule = requirePg('pg') as typeof pg;
  class RegisteredPool extends pgModule.Pool {
    constructor(config?: pg.PoolConfig) {
      super(config);
      pools.set(dataSource, this);
    }
  }
  const dataSource: DataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    synchronize: false,
    migrationsRun: false,
    poolSize: options.poolSize,
    applicationName: options.applicationName,
    maxQueryExecutionTime: 500,
    // 'query' lets every statement be counted against its request; the logger prints none of them.
    logging: ['query', 'error', 'warn', 'migration'],
    logger: new PinoTypeormLogger(options.logger, options.onStatement),
    driver: Object.assign(Object.create(pgModule) as typeof pg, { Pool: RegisteredPool }),
    extra: {
      Client: timedClient(
        pgModule,
        options.preparedStatements ? new StatementNames(options.preparedStatements) : undefined,
      ),
      // timestamptz read straight from its characters (foundation/postgres/timestamps.ts); pg's parsers for the rest.
      types: pgTypes,
      statement_timeout: options.statementTimeoutMs,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      idleTimeoutMillis: 30_000,
    },
  });
  return dataSource;
}

const pools = new WeakMap<DataSource, pg.Pool>();
const requirePg = createRequire(import.meta.url);

/** poolOf gives an initialized DataSource's connection pool (its total, idle and waiting counts), for the metrics. */
export function poolOf(dataSource: DataSource): pg.Pool | undefined {
  return pools.get(dataSource);
}

/** MIGRATION_LOCK is the advisory lock that lets one process at a time migrate a database. */
const MIGRATION_LOCK = 0x6669787570; // "fixup"

/** READ_ONLY_MIGRATIONS_TABLE takes every right but SELECT on the migrations table from every role but its owner. */
const READ_ONLY_MIGRATIONS_TABLE = `DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT DISTINCT a.grantee::regrole::text AS role
           FROM pg_class c, aclexplode(c.relacl) a
           WHERE c.oid = 'public.${MIGRATIONS_TABLE}'::regclass AND a.privilege_type <> 'SELECT'
             AND a.grantee <> c.relowner AND a.grantee <> 0
  LOOP
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON public.${MIGRATIONS_TABLE} FROM %s', r.role);
  END LOOP;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'the migrations table keeps its grants: this role may not change them';
END $$`;

/**
 * migrate runs the pending migrations, each in its own transaction, holding an
 * advisory lock so that processes starting together do not race.
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      // The migrations table is the owner's record: other roles (the runtime
      // role got row rights on it by default privileges) may only read it.
      await runner.query(READ_ONLY_MIGRATIONS_TABLE);
      return ran.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/** DatabaseReadiness says whether the database answers and every listed migration has run. */
export interface DatabaseReadiness {
  ready: boolean;
  database: string;
  migrations: string;
}

/** databaseReadiness checks the database within timeoutMs; it never throws. */
export async function databaseReadiness(dataSource: DataSource, timeoutMs: number): Promise<DatabaseReadiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const rows: { name: string }[] = await Promise.race([
      dataSource.query(`SELECT name FROM ${MIGRATIONS_TABLE}`).catch((err: Error & { code?: string }) => {
        if (err.code === '42P01') return [];
        throw err;
      }),
      timeout,
    ]);
    const applied = new Set(rows.map((r) => r.name));
    const pending = dataSource.migrations
      .map((m) => m.name)
      .filter((name): name is string => !!name && !applied.has(name));
    return pending.length === 0
      ? { ready: true, database: 'ok', migrations: 'applied' }
      : { ready: false, database: 'ok', migrations: `pending: ${pending.join(', ')}` };
  } catch (err) {
    return { ready: false, database: `unreachable: ${(err as Error).message}`, migrations: 'unknown' };
  } finally {
    clearTimeout(timer);
  }
}

/** isUniqueViolation tells whether a database error is a unique-constraint violation, optionally of one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.driverError?.code ?? e.code;
  const name = e.driverError?.constraint ?? e.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/**
 * returnedRows reads the rows of a raw `UPDATE/DELETE … RETURNING` query: for
 * those, TypeORM's query() answers [rows, affectedCount] rather than rows.
 */
export function returnedRows<T>(result: unknown): T[] {
  const value = result as unknown[];
  return (Array.isArray(value[0]) ? value[0] : value) as T[];
}

let anyOfCounter = 0;

/**
 * anyOf matches a column against a list bound as one array parameter
 * (`= ANY($1)`). TypeORM's In() binds each value as a parameter of its own,
 * which costs a great deal of work and garbage for the long id lists that
 * batched loaders send.
 */
export function anyOf(values: readonly string[]): FindOperator<string> {
  const name = `anyOf${(anyOfCounter = (anyOfCounter + 1) % 1_000_000)}`;
  return Raw((alias) => `${alias} = ANY(:${name})`, { [name]: [...values] });
}

/**
 * EntityReader reads an entity's rows with one raw statement whose columns carry the entity's property names, so the
 * rows come back in the entity's shape with none of TypeORM's query building or entity hydration: for batched reads by
 * id those were a seventh of the user subgraph's time under the dashboard (docs/performance.md, lever 27). Each call
 * site's text is fixed, so with prepared statements on (DatabaseOptions.preparedStatements) each connection plans it
 * once.
 */
export class EntityReader<T extends ObjectLiteral> {
  private list?: string;
  private select?: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly entity: EntityTarget<T>,
    private readonly alias: string,
  ) {}

  /**
   * columns is the select list of the entity's columns under the reader's alias, each named as its property
   * (`o.customer_id AS "customerId"`), for a statement of another shape whose rows are the entity's.
   */
  get columns(): string {
    return (this.list ??= this.dataSource
      .getMetadata(this.entity)
      .columns.map((column) => `${this.alias}.${column.databaseName} AS "${column.propertyName}"`)
      .join(', '));
  }

  /** rows runs `SELECT <the entity's columns> FROM <its table> <alias> <rest>` with the parameters ($1, $2, …). */
  rows(rest: string, parameters: unknown[]): Promise<T[]> {
    this.select ??= `SELECT ${this.columns} FROM ${this.dataSource.getMetadata(this.entity).tablePath} ${this.alias} `;
    return this.dataSource.query<T[]>(this.select + rest, parameters);
  }
}
