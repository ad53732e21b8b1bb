import { DEFAULT_PORTS, serviceUrl, type SubgraphName } from '../../contracts/services.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import {
  booleanSchema,
  environmentSetting,
  nonNegativeIntSchema,
  portSchema,
  positiveIntSchema,
  setting,
  type Settings,
} from './config.js';
import { graphqlRoute } from '../graphql/http.js';
import type { ScopedContext } from '../graphql/errors.js';
import { HttpService, sendJson, type RequestScope, type RouteHandler } from '../http/server.js';
import { GatewayTrust } from '../auth/identity.js';
import type { ServiceCredentials } from '../http/internal-calls.js';
import type { Caller } from '../../contracts/caller.js';
import { FEED_POSITIONS_HEADER, parseFeedPositions } from '../../contracts/feeds.js';
import { processSettings, startProcess } from './process.js';
import type { Logger } from '../telemetry/logger.js';
import { Metrics, watchPool } from '../telemetry/metrics.js';
import { createDataSource, databaseReadiness, migrate, poolOf, type MigrationClass } from '../postgres/database.js';
import { OutboxRelay } from '../events/outbox-relay.js';
import { loadOrCreateSecret } from '../auth/secrets.js';
import { createSubgraphServer, type AnswerHeaders } from '../graphql/subgraph-schema.js';
import { serveSubgraphSubscriptions } from '../graphql/subscriptions.js';
import { asyncContextIsBuiltIn, currentScope } from '../http/request-context.js';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

/**
 * EMBEDDED_POSTGRES_PORT is where `npm start` runs its embedded PostgreSQL (not 5432, to leave a local server alone).
 */
export const EMBEDDED_POSTGRES_PORT = 54329;

/** dbRole is the database and role name of a subgraph under a prefix (`fixup_order`). */
export function dbRole(prefix: string, subgraph: string): string {
  return `${prefix}_${subgraph}`;
}

/**
 * subgraphSettings is the configuration every subgraph shares, its variables
 * named `<SUBGRAPH>_<GROUP>_<NAME>` beside the ecosystem's shared names.
 */
export function subgraphSettings(name: SubgraphName, root: string) {
  const p = name.toUpperCase();
  const role = dbRole('fixup', name);
  return {
    environment: environmentSetting(),
    httpHost: setting({
      env: `${p}_HTTP_HOST`,
      doc: 'interface to listen on',
      schema: z.string().min(1),
      fallback: '127.0.0.1',
    }),
    httpPort: setting({
      env: `${p}_HTTP_PORT`,
      doc: 'port to listen on',
      schema: portSchema,
      fallback: String(DEFAULT_PORTS[name].http),
    }),
    adminHost: setting({
      env: `${p}_ADMIN_HOST`,
      doc: 'interface of the admin listener (GET /metrics, /readyz, /healthz)',
      schema: z.string().min(1),
      fallback: '127.0.0.1',
    }),
    adminPort: setting({
      env: `${p}_ADMIN_PORT`,
      doc: 'port of the admin listener; the public port answers only /healthz of these',
      schema: portSchema,
      fallback: String(DEFAULT_PORTS[name].admin),
    }),
    httpBodyLimitBytes: setting({
      env: `${p}_HTTP_BODY_LIMIT_BYTES`,
      doc: 'largest request body accepted',
      schema: positiveIntSchema,
      fallback: '1048576',
    }),
    dbUrl: setting({
      env: `${p}_DB_URL`,
      doc: `PostgreSQL URL of this subgraph's own database, as its own role (a password in the URL wins over ${p}_DB_PASSWORD_FILE)`,
      schema: z.url(),
      fallback: `postgres://${role}@127.0.0.1:${EMBEDDED_POSTGRES_PORT}/${role}`,
    }),
    dbPasswordFile: setting({
      env: `${p}_DB_PASSWORD_FILE`,
      doc: 'file holding the database password when the URL has none (npm start writes it)',
      schema: z.string(),
      fallback: join(root, '.data', 'secrets', `${role}.password`),
    }),
    dbMigrateUrl: setting({
      env: `${p}_DB_MIGRATE_URL`,
      doc: `PostgreSQL URL the migrations run with: this database, as the role that acts as its owner (a password in the URL wins over ${p}_DB_MIGRATE_PASSWORD_FILE)`,
      schema: z.url(),
      fallback: `postgres://${role}_migrator@127.0.0.1:${EMBEDDED_POSTGRES_PORT}/${role}`,
    }),
    dbMigratePasswordFile: setting({
      env: `${p}_DB_MIGRATE_PASSWORD_FILE`,
      doc: "file holding the migrating role's password when its URL has none (npm start writes it)",
      schema: z.string(),
      fallback: join(root, '.data', 'secrets', `${role}_migrator.password`),
    }),
    dbPoolSize: setting({
      env: `${p}_DB_POOL_SIZE`,
      doc: 'connections in the pool',
      schema: positiveIntSchema,
      fallback: '10',
    }),
    dbStatementTimeoutMs: setting({
      env: `${p}_DB_STATEMENT_TIMEOUT_MS`,
      doc: 'longest a SQL statement may run',
      schema: positiveIntSchema,
      fallback: '10000',
    }),
    dbConnectTimeoutMs: setting({
      env: `${p}_DB_CONNECT_TIMEOUT_MS`,
      doc: 'longest a request waits for a free database connection; past it the request answers SERVICE_UNAVAILABLE',
      schema: positiveIntSchema,
      fallback: '3000',
    }),
    dbPreparedStatements: setting({
      env: `${p}_DB_PREPARED_STATEMENTS`,
      doc: 'how many distinct parameterized SQL statements are sent as named prepared statements, which each connection has PostgreSQL parse and plan once; 0 sends every statement unnamed, as PgBouncer in transaction mode before 1.21 needs',
      schema: nonNegativeIntSchema,
      fallback: '200',
    }),
    dbStatementsPerRequest: setting({
      env: `${p}_DB_STATEMENTS_PER_REQUEST`,
      doc: "count each request's SQL statements (sqlStatements in its log line; fixup_db_statements_total then tells requests' from background work's, else origin=\"unattributed\"). It follows each request through its awaits, which before Node 24 costs a hook on every promise (about a tenth of the CPU); the default is on from Node 24, off before",
      schema: booleanSchema,
      fallback: String(asyncContextIsBuiltIn),
    }),
    dbMigrate: setting({
      env: `${p}_DB_MIGRATE`,
      doc: `run pending migrations at start, as ${p}_DB_MIGRATE_URL`,
      schema: booleanSchema,
      fallback: 'true',
    }),
    ...processSettings(),
    gatewayJwksUrl: setting({
      env: `${p}_GATEWAY_JWKS_URL`,
      doc: "the gateway's public keys, which sign the token every request from the gateway carries",
      schema: z.url(),
      fallback: `${serviceUrl('gateway')}/.well-known/gateway-jwks.json`,
    }),
    auditUrl: setting({
      env: `${p}_AUDIT_URL`,
      doc: "the audit subgraph's base URL, where the outbox relay delivers audit events",
      schema: z.url(),
      fallback: serviceUrl('audit'),
    }),
    auditIngestSecret: setting({
      env: 'AUDIT_INGEST_SECRET',
      doc: 'shared secret that lets services deliver audit events; wins over the file',
      schema: optionalText,
      secret: true,
    }),
    auditIngestSecretFile: setting({
      env: 'AUDIT_INGEST_SECRET_FILE',
      doc: 'file holding that secret; outside production it is made on first use',
      schema: z.string().min(1),
      fallback: join(root, '.data', 'secrets', 'audit-ingest.secret'),
    }),
    internalCallSecret: setting({
      env: 'INTERNAL_CALL_SECRET',
      doc: "the services' shared secret for calling each other's internal routes; wins over the file",
      schema: optionalText,
      secret: true,
    }),
    internalCallSecretFile: setting({
      env: 'INTERNAL_CALL_SECRET_FILE',
      doc: 'file holding that secret; outside production it is made on first use',
      schema: z.string().min(1),
      fallback: join(root, '.data', 'secrets', 'internal-call.secret'),
    }),
    outboxPollMs: setting({
      env: `${p}_OUTBOX_POLL_MS`,
      doc: 'how often the outbox relay looks for events to deliver',
      schema: positiveIntSchema,
      fallback: '500',
    }),
    outboxBatchSize: setting({
      env: `${p}_OUTBOX_BATCH_SIZE`,
      doc: 'events delivered per request',
      schema: positiveIntSchema,
      fallback: '100',
    }),
    outboxRetentionDays: setting({
      env: `${p}_OUTBOX_RETENTION_DAYS`,
      doc: 'days delivered outbox rows are kept before pruning',
      schema: positiveIntSchema,
      fallback: '7',
    }),
    shutdownTimeoutMs: setting({
      env: `${p}_SHUTDOWN_TIMEOUT_MS`,
      doc: 'longest each shutdown step (such as draining requests) may take',
      schema: positiveIntSchema,
      fallback: '10000',
    }),
  };
}

/** SubgraphSettings are the parsed shared settings of a subgraph. */
export type SubgraphSettings = Settings<ReturnType<typeof subgraphSettings>>;

/** SubgraphWiring is what a subgraph's main builds once its database is open. */
export interface SubgraphWiring<C extends ScopedContext> {
  schema: GraphQLSchema;
  /** context builds a request's context from its caller, whom the gateway vouched for. */
  context: (caller: Caller, scope: RequestScope) => Promise<C>;
  /** startup runs after migrations and before serving (a seed step, say). */
  startup?: () => Promise<void>;
  /** routes are extra HTTP routes (such as a JWKS), public unless they check the gateway's token themselves. */
  routes?: Record<string, RouteHandler>;
  /** stop runs first at shutdown, before the HTTP server drains (to end long-lived streams). */
  stop?: () => Promise<void>;
  /** subscriptions serves the schema's subscriptions over graphql-ws at /graphql, to the gateway only. */
  subscriptions?: boolean;
  /** answerHeaders names headers added to an operation's answer once it ran. */
  answerHeaders?: AnswerHeaders;
}

/** SubgraphDefinition is one subgraph: its name, its storage, and how to wire it. */
export interface SubgraphDefinition<C extends ScopedContext> {
  name: string;
  settings: SubgraphSettings;
  /** printable is the effective settings with secrets masked, logged at start. */
  printable: Record<string, unknown>;
  entities: Function[];
  migrations: MigrationClass[];
  /** outbox says the subgraph records audit events in an outbox, which a relay delivers. */
  outbox?: boolean;
  /**
   * wire builds the subgraph: trust checks the gateway's tokens, internal is its own credentials for other subgraphs'
   * internal routes (and for guarding its own).
   */
  wire: (
    dataSource: DataSource,
    logger: Logger,
    trust: GatewayTrust,
    internal: ServiceCredentials,
  ) => Promise<SubgraphWiring<C>>;
}

/**
 * auditIngestSecret is the shared secret for audit delivery: given, or read from its file (made outside production).
 */
export function auditIngestSecret(settings: SubgraphSettings): string {
  if (settings.auditIngestSecret) return settings.auditIngestSecret;
  if (settings.environment === 'production') return readFileSync(settings.auditIngestSecretFile, 'utf8').trim();
  return loadOrCreateSecret(settings.auditIngestSecretFile);
}

/**
 * internalCallSecret is the services' shared secret for internal routes: given, or read from its file (made outside
 * production).
 */
export function internalCallSecret(settings: SubgraphSettings): string {
  if (settings.internalCallSecret) return settings.internalCallSecret;
  if (settings.environment === 'production') return readFileSync(settings.internalCallSecretFile, 'utf8').trim();
  return loadOrCreateSecret(settings.internalCallSecretFile);
}

/** withPassword fills the URL's password from passwordFile when the URL has none and the file exists. */
export function withPassword(url: string, passwordFile: string): string {
  const parsed = new URL(url);
  if (parsed.password) return url;
  try {
    parsed.password = encodeURIComponent(readFileSync(passwordFile, 'utf8').trim());
  } catch {
    return url;
  }
  return parsed.toString();
}

/**
 * runSubgraph starts a subgraph in order (telemetry, logger, database,
 * migrations, schema, HTTP) and stops it in reverse on a signal: stop
 * accepting, drain requests, close the pool, flush spans.
 */
export async function runSubgraph<C extends ScopedContext>(definition: SubgraphDefinition<C>): Promise<void> {
  const { name, settings } = definition;
  const { logger, lifecycle, failedToStart, started } = startProcess(name, settings, definition.printable);
  const metrics = new Metrics(name);
  try {
    const dataSource = createDataSource({
      url: withPassword(settings.dbUrl, settings.dbPasswordFile),
      entities: definition.entities,
      migrations: definition.migrations,
      logger,
      poolSize: settings.dbPoolSize,
      applicationName: `fixup-${name}`,
      statementTimeoutMs: settings.dbStatementTimeoutMs,
      connectTimeoutMs: settings.dbConnectTimeoutMs,
      preparedStatements: settings.dbPreparedStatements,
      onStatement: settings.dbStatementsPerRequest
        ? (_sql, background) => metrics.countStatement(background || !currentScope() ? 'background' : 'request')
        : (_sql, background) => metrics.countStatement(background ? 'background' : 'unattributed'),
    });
    await dataSource.initialize();
    const pool = poolOf(dataSource);
    if (pool) watchPool(pool);
    lifecycle.onShutdown({ name: 'database', stop: () => dataSource.destroy() });
    if (settings.dbMigrate) {
      // Migrations run on a connection of their own, as the database's owner: the service's own role may change rows,
      // never the schema.
      const owner = createDataSource({
        url: withPassword(settings.dbMigrateUrl, settings.dbMigratePasswordFile),
        entities: [],
        migrations: definition.migrations,
        logger,
        poolSize: 2, // migrate() holds one connection for its lock while the migrations run on another
        applicationName: `fixup-${name}-migrate`,
        statementTimeoutMs: 600_000,
      });
      await owner.initialize();
      try {
        const ran = await migrate(owner);
        if (ran.length > 0) logger.info({ migrations: ran }, 'migrations applied');
      } finally {
        await owner.destroy();
      }
    }
    if (definition.outbox) {
      const relay = new OutboxRelay(
        dataSource,
        {
          auditUrl: settings.auditUrl,
          secret: auditIngestSecret(settings),
          batchSize: settings.outboxBatchSize,
          pollMs: settings.outboxPollMs,
          retentionDays: settings.outboxRetentionDays,
          timeoutMs: 5000,
        },
        logger,
      );
      relay.start();
      lifecycle.onShutdown({ name: 'outbox relay', stop: () => relay.stop() });
    }
    const trust = new GatewayTrust(settings.gatewayJwksUrl, name);
    const wiring = await definition.wire(dataSource, logger, trust, {
      service: name,
      secret: internalCallSecret(settings),
    });
    await wiring.startup?.();
    const apollo = createSubgraphServer<C>(wiring.schema, wiring.answerHeaders);
    await apollo.start();
    lifecycle.onShutdown({ name: 'graphql', stop: () => apollo.stop() });
    const execute = graphqlRoute(
      apollo,
      async (_req, scope) => wiring.context(scope.caller!, scope),
      settings.httpBodyLimitBytes,
      // The gateway is the one caller (its token is checked below) and asks for JSON only.
      { direct: true },
    );
    // Only the gateway may call: every request, _service and _entities included, must carry its signed token.
    const graphql: RouteHandler = async (req, res, scope) => {
      const caller = await trust.callerOf(req, scope.requestId);
      if (!caller) {
        scope.outcome = 'refused';
        return sendJson(res, 401, {
          errors: [{ message: 'Requests must come through the gateway', extensions: { code: 'UNAUTHENTICATED' } }],
        });
      }
      const feedPositions = parseFeedPositions(req.headers[FEED_POSITIONS_HEADER]);
      scope.caller =
        scope.traceparent || feedPositions
          ? {
              ...caller,
              ...(scope.traceparent ? { traceparent: scope.traceparent } : {}),
              ...(feedPositions ? { feedPositions } : {}),
            }
          : caller;
      return execute(req, res, scope);
    };
    const http = new HttpService({
      service: name,
      logger,
      metrics,
      host: settings.httpHost,
      port: settings.httpPort,
      admin: { host: settings.adminHost, port: settings.adminPort },
      readiness: async () => {
        const db = await databaseReadiness(dataSource, 2000);
        return { ready: db.ready, checks: { database: db.database, migrations: db.migrations } };
      },
      routes: { 'POST /graphql': graphql, 'GET /graphql': graphql, ...wiring.routes },
      asyncScope: settings.dbStatementsPerRequest,
    });
    lifecycle.onShutdown({ name: 'http', stop: () => http.close(settings.shutdownTimeoutMs) });
    if (wiring.subscriptions) {
      const sockets = serveSubgraphSubscriptions({
        server: http.server,
        schema: wiring.schema,
        subgraph: name,
        trust,
        context: wiring.context,
        logger,
      });
      lifecycle.onShutdown({ name: 'websockets', stop: () => sockets.close() });
    }
    if (wiring.stop) lifecycle.onShutdown({ name: 'streams', stop: wiring.stop });
    started();
    const port = await http.listen();
    logger.info(
      { url: `http://${settings.httpHost}:${port}/graphql`, admin: `http://${settings.adminHost}:${http.adminPort}` },
      'ready',
    );
  } catch (err) {
    await failedToStart(err);
  }
}
