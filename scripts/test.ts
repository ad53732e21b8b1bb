// npm test: runs every compiled *.test.js with node:test, in three tiers:
//   unit         no database and no other process: the file imports neither the test kit nor the e2e harness
//   integration  one subgraph's store or tool on a real PostgreSQL: the file imports foundation/testkit/
//                (or says `// test tier: integration`, for a test that runs other processes)
//   e2e          the whole stack, files under e2e/
// `--tier=<name>` runs one tier (npm run test:unit, test:integration, test:e2e); without it every tier runs,
// in that order. Other arguments keep the files whose path contains one of them. Integration and e2e tests
// run against one real PostgreSQL: DATABASE_URL when set, otherwise an embedded server made for this run
// and thrown away after it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN_URL_VARIABLE } from '../foundation/testkit/databases.js';
import { freePort } from './stack.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const TIERS = ['unit', 'integration', 'e2e'] as const;
type Tier = (typeof TIERS)[number];

/** tierOf reads which tier a compiled test file belongs to (see the top of this file). */
function tierOf(path: string, source: string): Tier {
  if (/(^|[\\/])e2e[\\/]/.test(path)) return 'e2e';
  if (/\/testkit\/|\/e2e\/harness\.js|^\/\/ test tier: integration/m.test(source)) return 'integration';
  return 'unit';
}

const args = process.argv.slice(2);
const tierArg = args.find((a) => a.startsWith('--tier='))?.slice('--tier='.length);
if (tierArg !== undefined && !(TIERS as readonly string[]).includes(tierArg)) {
  process.stderr.write(`--tier must be one of ${TIERS.join(', ')}\n`);
  process.exit(2);
}
const filter = args.filter((a) => !a.startsWith('--tier='));
const files = (readdirSync(DIST, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.js') && !f.startsWith('node_modules'))
  .map((f) => join(DIST, f))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .map((f) => ({ path: f, tier: tierOf(relative(DIST, f), readFileSync(f, 'utf8')) }))
  .filter((f) => tierArg === undefined || f.tier === tierArg)
  .sort((a, b) => TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || a.path.localeCompare(b.path))
  .map((f) => f.path);

let adminUrl = process.env.DATABASE_URL;
let keeper: ReturnType<typeof spawn> | undefined;
let dataDir: string | undefined;
const needsDatabase = tierArg !== 'unit';
if (!adminUrl && needsDatabase) {
  dataDir = mkdtempSync(join(tmpdir(), 'fixup-test-'));
  // As root the server runs as the postgres user, who must be able to enter the folder.
  chmodSync(dataDir, 0o755);
  keeper = spawn(process.execPath, [join(DIST, 'scripts/embedded-postgres-process.js')], {
    env: {
      ...process.env,
      FIXUP_EMBEDDED_POSTGRES: JSON.stringify({
        dataDir: join(dataDir, 'postgres'),
        port: await freePort(),
        password: randomBytes(12).toString('hex'),
        persistent: false,
      }),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  adminUrl = await new Promise<string>((resolve, reject) => {
    keeper!.once('message', (m: { ready: boolean; adminUrl?: string; error?: string }) =>
      m.ready ? resolve(m.adminUrl!) : reject(new Error(m.error)),
    );
    keeper!.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (code ${code})`)));
  });
}

const against = !needsDatabase ? 'no database' : keeper ? 'an embedded PostgreSQL' : 'DATABASE_URL';
process.stdout.write(`Running ${files.length} test files (${tierArg ?? 'every tier'}) against ${against}\n`);
const runner = spawn(
  process.execPath,
  ['--test', `--test-concurrency=${tierArg === 'unit' ? 2 : 1}`, ...files.map((f) => relative(process.cwd(), f))],
  {
    env: {
      ...process.env,
      ...(adminUrl ? { [TEST_ADMIN_URL_VARIABLE]: adminUrl } : {}),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: 'inherit',
  },
);
const stopKeeper = async () => {
  if (!keeper) return;
  if (keeper.connected) keeper.send('stop');
  if (keeper.exitCode === null) await new Promise((resolve) => keeper!.once('exit', resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
};
process.on('SIGINT', () => runner.kill('SIGINT'));
process.on('SIGTERM', () => runner.kill('SIGTERM'));
const code = await new Promise<number>((resolve) => runner.once('exit', (c) => resolve(c ?? 1)));
await stopKeeper();
process.exit(code);
