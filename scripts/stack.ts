import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  databaseUrl,
  migratorRole,
  migratorUrl,
  provisionDatabases,
  type DatabaseGrant,
} from '../foundation/postgres/admin.js';
import { loadOrCreateSecret } from '../foundation/auth/secrets.js';
import { loadKeySet } from '../foundation/auth/tokens.js';
import { withYoungGenerationBound } from '../foundation/service/process.js';
import { dbRole } from '../foundation/service/subgraph-service.js';
import { catalogEventsRoute, orderEventsRoute, sessionEventsRoute } from '../contracts/internal-routes.js';
import { ADMIN_PORTS, GATEWAY_PORT, SUBGRAPHS } from './services.js';

/** DIST is the compiled tree that holds each service's entry point. */
const DIST = fileURLToPath(new URL('../', import.meta.url));

/** StackOptions says where the stack keeps its data and how it is reached. */
export interface StackOptions {
  /** dataDir holds the embedded database, generated secrets and logs (`.data/` for npm start). */
  dataDir: string;
  /** adminUrl names an existing PostgreSQL server to use (DATABASE_URL); none starts the embedded one. */
  adminUrl?: string;
  /** postgresPort is the embedded server's port. */
  postgresPort: number;
  /** persistent keeps the embedded database between runs. */
  persistent: boolean;
  /** prefix names databases and roles (`fixup_order`). */
  prefix: string;
  /** ports: gateway and each subgraph by name; 0 picks a free port. */
  ports: Record<string, number>;
  /** adminPorts: each process's admin listener (metrics, readiness) by name; missing or 0 picks a free port. */
  adminPorts?: Record<string, number>;
  /** env is added to every service's environment. */
  env: Record<string, string>;
  /** onLine hears each log line of each process. */
  onLine?: (service: string, line: string) => void;
  /** readyTimeoutMs bounds the wait for each service to be ready. */
  readyTimeoutMs?: number;
  /** nodeArgs are extra flags for every service's node (profiling, say: --cpu-prof). */
  nodeArgs?: string[];
  /** mailDir is where the user subgraph writes its .eml files (default: `<dataDir>/mail`). */
  mailDir?: string;
  /** admin is created at start when the system has no admin. */
  admin?: { email: string; password: string };
  /**
   * instances runs several processes of a subgraph (chat: 2), named `chat`, `chat-2`…, each on a port of its own,
   * listed to the gateway as `chat=url1|url2`.
   */
  instances?: Record<string, number>;
  /**
   * production runs every process with NODE_ENV=production, as benchmarks must: the keys are made before the
   * processes start (production never makes them), the shared secrets are read from their files, and account mail
   * goes to an SMTP port where nothing listens (the runs send none).
   */
  production?: boolean;
}

/** RunningService is one started process of the stack. */
export interface RunningService {
  name: string;
  pid: number;
  url: string;
  /** admin is the base URL of its admin listener (GET /metrics, /readyz, /healthz). */
  admin: string;
}

/** Stack is the running supergraph: its endpoint, its processes, and how to stop it in order. */
export interface Stack {
  endpoint: string;
  adminUrl: string;
  embedded: boolean;
  /**
   * postgresPid is the embedded PostgreSQL's launcher process (PostgreSQL and its backends run beneath it); none with
   * an external server.
   */
  postgresPid?: number;
  services: RunningService[];
  /**
   * adminOf gives a running process's admin listener base URL (the gateway, a subgraph, or an instance such as
   * `chat-2`).
   */
  adminOf(name: string): string;
  grants: DatabaseGrant[];
  logDir: string;
  /** mailDir holds one .eml file per message the user subgraph sent. */
  mailDir: string;
  /**
   * stopService stops one process (SIGTERM, or SIGKILL to crash it) and gives its exit code; startService starts it
   * again as before (the gateway, a subgraph, or one instance such as `chat-2`).
   */
  stopService(name: string, signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  startService(name: string): Promise<void>;
  /**
   * startReplica starts one more process of a subgraph on ports of its own (same database), and gives its URL; its name
   * for adminOf is `<name>-replica-<port>`.
   */
  startReplica(name: string): Promise<string>;
  /** stop stops the gateway, then the subgraphs, then PostgreSQL, and gives each process's exit code. */
  stop(): Promise<Record<string, number | null>>;
}

/** defaultPorts are the ports npm start uses. */
export function defaultPorts(): Record<string, number> {
  return { gateway: GATEWAY_PORT, ...Object.fromEntries(SUBGRAPHS.map((s) => [s.name, s.port])) };
}

/** defaultAdminPorts are the admin ports npm start uses (the services' defaults). */
export function defaultAdminPorts(): Record<string, number> {
  return { ...ADMIN_PORTS };
}

/** freePort finds a port that is free right now (see LOW_PORTS_FROM). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOW_PORTS_FROM + Math.floor(Math.random() * (LOW_PORTS_TO - LOW_PORTS_FROM));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/**
 * Ports are drawn below Linux's ephemeral range (32768–60999), where no
 * outgoing connection of this or another process takes one between the check
 * and the listen, and never twice in one process.
 */
const LOW_PORTS_FROM = 20_000;
const LOW_PORTS_TO = 32_768;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  log: WriteStream;
}

/**
 * startStack brings the whole supergraph up in order: PostgreSQL (embedded
 * unless adminUrl is given), one database and its roles per subgraph, the five
 * subgraphs (each migrates its own database at start, as its owner), then the gateway; it
 * resolves once every process says it is ready.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const children: Child[] = [];
  const specs = new Map<string, { entry: string; env: Record<string, string>; port: number; adminPort: number }>();
  let postgres: Child | undefined;
  const spawnService = (name: string, entry: string, env: Record<string, string>): Child => {
    // Every service runs with V8's young generation bounded (foundation/service/process.ts); a given size wins.
    const child = spawn(process.execPath, [...withYoungGenerationBound(options.nodeArgs), join(DIST, entry)], {
      env: { ...process.env, ...options.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    const drained = [child.stdout!, child.stderr!].map((stream) => {
      const lines = createInterface({ input: stream });
      lines.on('line', (line) => {
        log.write(line + '\n');
        options.onLine?.(name, line);
      });
      return new Promise<void>((resolve) => lines.once('close', resolve));
    });
    // 'exit' can come before the last lines are read from the pipes (it does on Node 24 under load): a process counts
    // as
    // exited once its output is read too, so its log ends with its last line ('stopped'). A grandchild that keeps a
    // pipe
    // open (PostgreSQL's) is waited for a moment only.
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        let timer: NodeJS.Timeout | undefined;
        const waited = new Promise<void>((done) => (timer = setTimeout(done, 2000)));
        void Promise.race([Promise.all(drained), waited]).then(() => {
          clearTimeout(timer);
          resolve(code);
        });
      }),
    );
    return { name, process: child, exited, log };
  };

  const codes: Record<string, number | null> = {};
  const stopChild = async (child: Child, timeoutMs: number) => {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
    codes[child.name] = await child.exited;
    clearTimeout(timer);
    await new Promise<void>((resolve) => child.log.end(resolve));
  };

  const stop = async () => {
    const gateway = children.filter((c) => c.name === 'gateway');
    const subgraphs = children.filter((c) => c.name !== 'gateway');
    await Promise.all(gateway.map((c) => stopChild(c, 15_000)));
    await Promise.all(subgraphs.map((c) => stopChild(c, 15_000)));
    if (postgres) {
      if (postgres.process.connected) postgres.process.send('stop');
      await stopChild(postgres, 15_000);
    }
    return codes;
  };

  try {
    let adminUrl = options.adminUrl;
    if (!adminUrl) {
      const password = loadOrCreateSecret(join(options.dataDir, 'secrets', 'postgres-admin.password'));
      postgres = spawnService('postgres', 'scripts/embedded-postgres-process.js', {
        FIXUP_EMBEDDED_POSTGRES: JSON.stringify({
          dataDir: join(options.dataDir, 'postgres'),
          port: options.postgresPort,
          password,
          persistent: options.persistent,
        }),
      });
      adminUrl = await new Promise<string>((resolve, reject) => {
        postgres!.process.once('message', (m: { ready: boolean; adminUrl?: string; error?: string }) =>
          m.ready ? resolve(m.adminUrl!) : reject(new Error(`embedded PostgreSQL failed: ${m.error}`)),
        );
        void postgres!.exited.then((code) => reject(new Error(`embedded PostgreSQL exited (code ${code})`)));
      });
    }
    const grants = SUBGRAPHS.map((s) => {
      const role = dbRole(options.prefix, s.name);
      const secret = (name: string) => loadOrCreateSecret(join(options.dataDir, 'secrets', `${name}.password`));
      return { database: role, role, password: secret(role), migratorPassword: secret(migratorRole({ role })) };
    });
    await provisionDatabases(adminUrl, grants, { lockDownServer: !options.adminUrl });

    const ports: Record<string, number> = {};
    const adminPorts: Record<string, number> = {};
    for (const name of ['gateway', ...SUBGRAPHS.map((s) => s.name)]) {
      ports[name] = options.ports[name] || (await freePort());
      adminPorts[name] = options.adminPorts?.[name] || (await freePort());
    }
    const services: RunningService[] = [];
    const keys = join(options.dataDir, 'keys');
    const mailDir = options.mailDir || join(options.dataDir, 'mail');
    const gatewayUrl = `http://localhost:${ports.gateway}`;
    const userUrl = `http://localhost:${ports.user}`;
    const auditSecretFile = join(options.dataDir, 'secrets', 'audit-ingest.secret');
    const internalSecretFile = join(options.dataDir, 'secrets', 'internal-call.secret');
    const auditSecret = loadOrCreateSecret(auditSecretFile);
    const internalSecret = loadOrCreateSecret(internalSecretFile);
    const production: Record<string, string> = options.production
      ? {
          NODE_ENV: 'production',
          AUDIT_INGEST_SECRET_FILE: auditSecretFile,
          INTERNAL_CALL_SECRET_FILE: internalSecretFile,
        }
      : {};
    if (options.production) {
      for (const file of ['user-jwt.jwks.json', 'gateway-internal.jwks.json'])
        await loadKeySet({ file: join(keys, file), createIfMissing: true });
    }
    const own: Record<string, Record<string, string>> = {
      user: {
        USER_JWT_KEYS_FILE: join(keys, 'user-jwt.jwks.json'),
        MAIL_DIR: mailDir,
        USER_APP_URL: gatewayUrl,
        ...(options.production ? { SMTP_URL: 'smtp://127.0.0.1:9' } : {}),
        ...(options.admin ? { ADMIN_EMAIL: options.admin.email, ADMIN_PASSWORD: options.admin.password } : {}),
      },
      order: { ORDER_CATALOG_URL: `http://localhost:${ports.catalog}` },
      chat: {
        CHAT_ORDER_URL: `http://localhost:${ports.order}`,
        CHAT_CATALOG_URL: `http://localhost:${ports.catalog}`,
      },
    };
    const instanceUrls: Record<string, string[]> = {};
    for (const [i, s] of SUBGRAPHS.entries()) {
      const prefix = s.name.toUpperCase();
      const count = Math.max(1, options.instances?.[s.name] ?? 1);
      for (let k = 1; k <= count; k++) {
        const name = k === 1 ? s.name : `${s.name}-${k}`;
        const port = k === 1 ? ports[s.name]! : await freePort();
        const adminPort = k === 1 ? adminPorts[s.name]! : await freePort();
        ports[name] = port;
        adminPorts[name] = adminPort;
        const env = {
          [`${prefix}_DB_URL`]: databaseUrl(adminUrl!, grants[i]!),
          [`${prefix}_DB_MIGRATE_URL`]: migratorUrl(adminUrl!, grants[i]!),
          [`${prefix}_HTTP_PORT`]: String(port),
          [`${prefix}_ADMIN_PORT`]: String(adminPort),
          [`${prefix}_GATEWAY_JWKS_URL`]: `${gatewayUrl}/.well-known/gateway-jwks.json`,
          [`${prefix}_AUDIT_URL`]: `http://localhost:${ports.audit}`,
          // In production the secrets come from their files only, as a deployment gives them.
          ...(options.production
            ? production
            : { AUDIT_INGEST_SECRET: auditSecret, INTERNAL_CALL_SECRET: internalSecret }),
          ...own[s.name],
        };
        specs.set(name, { entry: `subgraphs/${s.name}/main.js`, env, port, adminPort });
        const child = spawnService(name, `subgraphs/${s.name}/main.js`, env);
        children.push(child);
        const url = `http://localhost:${port}/graphql`;
        (instanceUrls[s.name] ??= []).push(url);
        services.push({ name, pid: child.process.pid!, url, admin: `http://localhost:${adminPort}` });
      }
    }
    const timeout = options.readyTimeoutMs ?? 60_000;
    await Promise.all(
      children.filter((c) => c.name !== 'postgres').map((c) => waitReady(c, adminPorts[c.name]!, timeout)),
    );
    const gatewayEnv = {
      GATEWAY_HTTP_PORT: String(ports.gateway),
      GATEWAY_ADMIN_PORT: String(adminPorts.gateway),
      GATEWAY_SUBGRAPH_URLS: SUBGRAPHS.map((s) => `${s.name}=${instanceUrls[s.name]!.join('|')}`).join(','),
      GATEWAY_JWKS_URL: `${userUrl}/.well-known/jwks.json`,
      GATEWAY_SESSION_EVENTS_URL: `${userUrl}${sessionEventsRoute.path}`,
      GATEWAY_CATALOG_EVENTS_URL: `http://localhost:${ports.catalog}${catalogEventsRoute.path}`,
      GATEWAY_ORDER_EVENTS_URL: `http://localhost:${ports.order}${orderEventsRoute.path}`,
      GATEWAY_INTERNAL_KEYS_FILE: join(keys, 'gateway-internal.jwks.json'),
      ...production,
    };
    specs.set('gateway', {
      entry: 'gateway/main.js',
      env: gatewayEnv,
      port: ports.gateway!,
      adminPort: adminPorts.gateway!,
    });
    const gateway = spawnService('gateway', 'gateway/main.js', gatewayEnv);
    children.push(gateway);
    services.unshift({
      name: 'gateway',
      pid: gateway.process.pid!,
      url: `http://localhost:${ports.gateway}/graphql`,
      admin: `http://localhost:${adminPorts.gateway}`,
    });
    await waitReady(gateway, adminPorts.gateway!, timeout);
    return {
      endpoint: `http://localhost:${ports.gateway}/graphql`,
      adminUrl,
      embedded: !options.adminUrl,
      postgresPid: postgres?.process.pid,
      services,
      adminOf(name) {
        const port = adminPorts[name];
        if (!port) throw new Error(`no process named ${name}`);
        return `http://localhost:${port}`;
      },
      grants,
      logDir,
      mailDir,
      async stopService(name, signal = 'SIGTERM') {
        const child = children.find(
          (c) => c.name === name && c.process.exitCode === null && c.process.signalCode === null,
        );
        if (!child) throw new Error(`${name} is not running`);
        child.process.kill(signal);
        const code = await child.exited;
        children.splice(children.indexOf(child), 1);
        return code;
      },
      async startService(name) {
        const spec = specs.get(name);
        if (!spec) throw new Error(`no subgraph named ${name}`);
        const child = spawnService(name, spec.entry, spec.env);
        children.push(child);
        await waitReady(child, spec.adminPort, timeout);
        const entry = services.find((s) => s.name === name);
        if (entry) entry.pid = child.process.pid!;
      },
      async startReplica(name) {
        const spec = specs.get(name);
        if (!spec) throw new Error(`no subgraph named ${name}`);
        const port = await freePort();
        const adminPort = await freePort();
        const prefix = name.toUpperCase();
        const child = spawnService(`${name}-replica-${port}`, spec.entry, {
          ...spec.env,
          [`${prefix}_HTTP_PORT`]: String(port),
          [`${prefix}_ADMIN_PORT`]: String(adminPort),
        });
        children.push(child);
        adminPorts[`${name}-replica-${port}`] = adminPort;
        await waitReady(child, adminPort, timeout);
        return `http://localhost:${port}/graphql`;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** waitReady waits for a process's GET /readyz on its admin port. */
async function waitReady(child: Child, adminPort: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  let last = '';
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${child.name} exited (code ${exitCode}) before it was ready: see its log`);
    try {
      const res = await fetch(`http://localhost:${adminPort}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${child.name} was not ready within ${timeoutMs} ms: ${last}`);
}
