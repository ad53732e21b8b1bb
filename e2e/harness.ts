import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { importJWK, SignJWT, type JWK } from 'jose';
import WebSocket from 'ws';
import type { TokenSigner } from '../foundation/auth/tokens.js';
import { signSocketToken } from '../foundation/graphql/subscriptions.js';
import { adminQuery, dropDatabases } from '../foundation/postgres/admin.js';
import { SUBGRAPH_NAMES } from '../contracts/services.js';
import { testDatabaseServer, uniqueName } from '../foundation/testkit/databases.js';
import { startStack, type Stack, type StackOptions } from '../scripts/stack.js';

/** GraphQLResponse is a gateway answer as a frontend reads it. */
export interface GraphQLResponse {
  status: number;
  headers: Headers;
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** Session is a signed-in test user. */
export interface Session {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

/** TestStack is the real stack started for one test file, with helpers to talk to it as a frontend would. */
export interface TestStack {
  stack: Stack;
  adminUrl: string;
  prefix: string;
  dataDir: string;
  admin: { email: string; password: string };
  gql(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse>;
  register(role: 'CUSTOMER' | 'PROVIDER', name?: string): Promise<Session>;
  login(email: string, password: string): Promise<Session>;
  sql(subgraph: string, text: string, values?: unknown[]): Promise<any[]>;
  stop(): Promise<Record<string, number | null>>;
}

let counter = 0;

/** GENEROUS_RATE_LIMITS let a test's flows run at full speed; the tests of the gateway's rate limits set their own. */
export const GENEROUS_RATE_LIMITS: Record<string, string> = {
  GATEWAY_RATE_USER_PER_SECOND: '100000',
  GATEWAY_RATE_ADDRESS_PER_SECOND: '100000',
  GATEWAY_RATE_CREATE_PER_SECOND: '100000',
  GATEWAY_RATE_CREDENTIALS_PER_MINUTE: '100000',
  GATEWAY_RATE_REFUSALS_PER_MINUTE: '100000',
  GATEWAY_WS_SOCKETS_PER_ADDRESS: '100000',
  GATEWAY_WS_SUBSCRIBES_PER_SECOND: '100000',
};

/** STATEMENTS_PER_REQUEST has every subgraph count each request's SQL statements: its log line says how many. */
export const STATEMENTS_PER_REQUEST: Record<string, string> = Object.fromEntries(
  SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_DB_STATEMENTS_PER_REQUEST`, 'true']),
);

/** reportErrors prints every error or fatal line the services logged, so that a failed run shows its cause. */
function reportErrors(logDir: string): void {
  const lines: string[] = [];
  for (const file of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (/"level":"(error|fatal)"/.test(line)) lines.push(`${file}: ${line.slice(0, 1500)}`);
    }
  }
  if (lines.length > 0)
    process.stdout.write(`service errors logged during this test file:\n${lines.slice(0, 30).join('\n')}\n`);
}

/**
 * metricSample reads, from a process's own /metrics, the value of the first series of a metric whose labels include
 * every given pair (0 when none does yet).
 */
export async function metricSample(
  t: TestStack,
  process: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(new URL('/metrics', t.stack.adminOf(process)))).text();
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const found = match[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => found.includes(`${k}="${v}"`))) return Number(match[2]);
  }
  return 0;
}

/**
 * waitForMetric waits, up to timeoutMs, until metricSample reads value, and fails the test if it never does: for a
 * state a process reaches on its own after start (order's copy of the catalog's feed in sync, say).
 */
export async function waitForMetric(
  t: TestStack,
  process: string,
  name: string,
  value: number,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await metricSample(t, process, name)) !== value) {
    if (Date.now() > until) throw new Error(`${process}'s ${name} did not reach ${value} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * startTestStack starts every process of Fixup on free ports, against the
 * test PostgreSQL, with databases of its own, and an admin account.
 */
export async function startTestStack(
  env: Record<string, string> = {},
  options: Pick<StackOptions, 'instances' | 'production'> = {},
): Promise<TestStack> {
  const { adminUrl } = await testDatabaseServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'fixup-e2e-'));
  chmodSync(dataDir, 0o755);
  const prefix = uniqueName('fx');
  const admin = { email: `admin-${prefix}@fixup.test`, password: 'admin password 1234' };
  const stack = await startStack({
    dataDir,
    adminUrl,
    postgresPort: 0,
    persistent: false,
    prefix,
    ports: {},
    admin,
    instances: options.instances,
    production: options.production,
    env: {
      LOG_LEVEL: 'info',
      CATALOG_SEED_DEMO: 'true',
      GATEWAY_READINESS_TIMEOUT_MS: '1500',
      GATEWAY_TRUST_PROXY: 'loopback',
      ...GENEROUS_RATE_LIMITS,
      ...env,
    },
  });
  let stopped: Record<string, number | null> | undefined;
  const gql: TestStack['gql'] = async (query, variables, options = {}) => {
    const res = await fetch(stack.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // Each request comes from an address of its own unless a test fixes one, so per-IP limits bite only where meant
        // to.
        'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 254) + 1}, 203.0.113.${Math.floor(Math.random() * 254) + 1}`,
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Omit<GraphQLResponse, 'status' | 'headers'>;
    return { status: res.status, headers: res.headers, ...body };
  };
  const login = async (email: string, password: string): Promise<Session> => {
    const res = await gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken user { id } } }`,
      { e: email, p: password },
    );
    if (!res.data?.login) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
    return {
      id: res.data.login.user.id,
      email,
      password,
      accessToken: res.data.login.accessToken,
      refreshToken: res.data.login.refreshToken,
    };
  };
  return {
    stack,
    adminUrl,
    prefix,
    dataDir,
    admin,
    gql,
    login,
    async register(role, name) {
      const email = `${role.toLowerCase()}-${++counter}-${Date.now()}@example.com`;
      const password = 'a long enough password';
      const res = await gql(
        `mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }`,
        { input: { email, password, displayName: name ?? `${role} ${counter}`, role } },
      );
      if (!res.data?.register) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
      return {
        id: res.data.register.user.id,
        email,
        password,
        accessToken: res.data.register.accessToken,
        refreshToken: res.data.register.refreshToken,
      };
    },
    sql: (subgraph, text, values = []) => adminQuery(adminUrl, `${prefix}_${subgraph}`, text, values),
    async stop() {
      stopped ??= await stack.stop();
      reportErrors(stack.logDir);
      await dropDatabases(adminUrl, stack.grants);
      rmSync(dataDir, { recursive: true, force: true });
      await (await testDatabaseServer()).stop();
      return stopped;
    },
  };
}

/** mails reads the .eml files a test stack sent to an address, oldest first. */
export function mails(t: TestStack, to: string): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(t.stack.mailDir)
      .filter((f) => f.includes(to) && f.endsWith('.eml'))
      .sort();
  } catch {
    return [];
  }
  return files.map((f) => readFileSync(join(t.stack.mailDir, f), 'utf8'));
}

/** waitForMail waits (up to 10 s) for the count-th mail to an address and gives it. */
export async function waitForMail(t: TestStack, to: string, count: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const found = mails(t, to);
    if (found.length >= count) return found[count - 1]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail #${count} to ${to}`);
}

/** AccessTokenSigner signs a user's access token; expiresInSeconds defaults to an hour. */
export type AccessTokenSigner = (id: string, role: string, expiresInSeconds?: number) => Promise<string>;

/**
 * devAccessTokens signs access tokens as the user subgraph would, with the development key in a stack's data folder,
 * so that load generation and tests of many users need not register each one and hash a password.
 */
export async function devAccessTokens(dataDir: string): Promise<AccessTokenSigner> {
  const key = (JSON.parse(readFileSync(join(dataDir, 'keys', 'user-jwt.jwks.json'), 'utf8')) as { keys: JWK[] })
    .keys[0]!;
  const signingKey = await importJWK(key, 'EdDSA');
  return (id, role, expiresInSeconds = 3600) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: [role], ver: 0 })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid! })
      .setIssuer('fixup-user')
      .setAudience('fixup')
      .setSubject(id)
      .setIssuedAt(now - 10)
      .setJti(randomUUID())
      .setExpirationTime(now + expiresInSeconds)
      .sign(signingKey);
  };
}

/**
 * socketAsGateway opens a graphql-ws client to a subgraph instance as a gateway process would: its connection token
 * names the gateway process (gatewayId), and each subscribe must then carry a statement of its caller.
 */
export function socketAsGateway(url: string, signer: TokenSigner, gatewayId: string, subgraph = 'chat'): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: async () => ({
      gatewayToken: await signSocketToken(signer, { gatewayId, subgraph, ttlSeconds: 60 }),
    }),
  });
}
