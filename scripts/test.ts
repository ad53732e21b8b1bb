// npm test: runs every compiled *.test.js with node:test against one real
// PostgreSQL: DATABASE_URL when set, otherwise an embedded server made for
// this run and thrown away after it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN_URL_VARIABLE } from '../foundation/testkit/databases.js';
import { freePort } from './stack.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const filter = process.argv.slice(2);
const files = (readdirSync(DIST, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => join(DIST, f))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();

let adminUrl = process.env.DATABASE_URL;
let keeper: ReturnType<typeof spawn> | undefined;
let dataDir: string | undefined;
if (!adminUrl) {
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

process.stdout.write(`Running ${files.length} test files against ${keeper ? 'an embedded PostgreSQL' : 'DATABASE_URL'}\n`);
const runner = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files.map((f) => relative(process.cwd(), f))], {
  env: { ...process.env, [TEST_ADMIN_URL_VARIABLE]: adminUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  stdio: 'inherit',
});
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
