// npm start: runs the whole supergraph on this machine from one command.
import { join } from 'node:path';
import { z } from 'zod';
import { booleanSchema, loadSettings, maskUrlPassword, portSchema, setting } from '../foundation/service/config.js';
import { loadOrCreateSecret } from '../foundation/auth/secrets.js';
import { EMBEDDED_POSTGRES_PORT } from '../foundation/service/subgraph-service.js';
import { defaultAdminPorts, defaultPorts, startStack, type Stack } from './stack.js';
import { ROOT } from './supergraph.js';

const spec = {
  databaseUrl: setting({
    env: 'DATABASE_URL',
    doc: 'a PostgreSQL superuser URL to use instead of the embedded server (its databases and roles are created if missing)',
    schema: z
      .string()
      .optional()
      .transform((v) => (v ? v : undefined))
      .pipe(z.url().optional()),
    secret: false,
  }),
  dataDir: setting({
    env: 'FIXUP_DATA_DIR',
    doc: 'where the embedded database, generated secrets and logs live',
    schema: z.string().min(1),
    fallback: join(ROOT, '.data'),
  }),
  postgresPort: setting({
    env: 'FIXUP_POSTGRES_PORT',
    doc: 'port of the embedded PostgreSQL',
    schema: portSchema,
    fallback: String(EMBEDDED_POSTGRES_PORT),
  }),
  chatInstances: setting({
    env: 'FIXUP_CHAT_INSTANCES',
    doc: "chat processes to run (chat, chat-2…, on ports after 4004's own free ones); the gateway fails subscriptions over between them",
    schema: z.coerce.number().int().min(1).max(8),
    fallback: '1',
  }),
  verbose: setting({
    env: 'FIXUP_VERBOSE',
    doc: 'echo every log line of every process, not only warnings and errors',
    schema: booleanSchema,
    fallback: 'false',
  }),
};
const settings = loadSettings(
  spec,
  process.argv.slice(2),
  process.env,
  'npm start: runs Fixup (embedded PostgreSQL, five subgraphs, the gateway).\nEvery service setting (see `node dist/<service>/main.js --help`) may also be set in the environment.',
);

const LEVELS = new Set(['warn', 'error', 'fatal']);
function echo(service: string, line: string): void {
  let entry: { level?: string; msg?: string; err?: { message?: string } } | undefined;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = undefined;
  }
  if (settings.verbose || !entry || LEVELS.has(entry.level ?? '')) {
    const text =
      entry && !settings.verbose
        ? `${entry.level}: ${entry.msg}${entry.err?.message ? `: ${entry.err.message}` : ''}`
        : line;
    process.stdout.write(`[${service}] ${text}\n`);
  }
}

// The development admin: ADMIN_EMAIL and ADMIN_PASSWORD when given, otherwise a generated password kept in
// .data/secrets.
const admin = {
  email: process.env.ADMIN_EMAIL || 'admin@fixup.local',
  password: process.env.ADMIN_PASSWORD || loadOrCreateSecret(join(settings.dataDir, 'secrets', 'admin.password'), 12),
};

process.stdout.write('Starting Fixup…\n');
let stack: Stack | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the gateway, then the subgraphs, then PostgreSQL…\n`);
  await stack?.stop();
  process.stdout.write('Stopped.\n');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  stack = await startStack({
    dataDir: settings.dataDir,
    adminUrl: settings.databaseUrl,
    postgresPort: settings.postgresPort,
    persistent: true,
    prefix: 'fixup',
    ports: defaultPorts(),
    adminPorts: defaultAdminPorts(),
    env: { CATALOG_SEED_DEMO: process.env.CATALOG_SEED_DEMO ?? 'true' },
    mailDir: process.env.MAIL_DIR,
    admin,
    onLine: echo,
    instances: { chat: settings.chatInstances },
  });
} catch (err) {
  process.stderr.write(`Fixup did not start: ${(err as Error).message}\nLogs: ${join(settings.dataDir, 'logs')}\n`);
  process.exit(1);
}
if (stopping) await new Promise(() => {});

const rows = stack.services.map(
  (s) =>
    `  ${s.name.padEnd(9)} pid ${String(s.pid).padEnd(8)} ${s.url.padEnd(36)} admin ${s.admin} (/metrics, /readyz)`,
);
const database = stack.embedded
  ? `embedded PostgreSQL on 127.0.0.1:${settings.postgresPort}, data in ${join(settings.dataDir, 'postgres')}`
  : maskUrlPassword(stack.adminUrl);
process.stdout.write(
  [
    '',
    'Fixup is running.',
    '',
    `  endpoint   ${stack.endpoint}   (open it in a browser for GraphiQL)`,
    '',
    ...rows,
    `  database  ${database}`,
    `             one database and role per subgraph: ${stack.grants.map((g) => g.database).join(', ')}`,
    '',
    `  admin     ${admin.email} / ${admin.password}   (development credentials)`,
    `  mail      ${stack.mailDir}/*.eml (verification and reset links)`,
    `  logs      ${stack.logDir}/<process>.log (warnings and errors also appear here)`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);
