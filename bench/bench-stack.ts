import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { setting } from '../foundation/service/config.js';
import { freePort, startStack, type Stack, type StackOptions } from '../scripts/stack.js';
import { dropDatabases } from '../foundation/postgres/admin.js';

/** benchStackSettings are the settings of every benchmark's stack: extra node flags, and an existing PostgreSQL. */
export const benchStackSettings = {
  nodeArgs: setting({
    env: 'BENCH_NODE_ARGS',
    doc: 'extra node flags for every process, space-separated (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)',
    schema: z.string(),
    fallback: '',
  }),
  databaseUrl: setting({
    env: 'DATABASE_URL',
    doc: 'PostgreSQL superuser URL (default: an embedded server made for the run)',
    schema: z.string().optional(),
  }),
};

/** BenchStackOptions is what a benchmark sets of its throwaway stack; the rest is the same for every benchmark. */
export interface BenchStackOptions extends Pick<StackOptions, 'env' | 'nodeArgs' | 'instances' | 'production'> {
  /** name prefixes the data folder and the databases (`fixup-bench-<name>-…`, `<name>1a2b3c_order`). */
  name: string;
  /** databaseUrl is a PostgreSQL superuser URL (DATABASE_URL); none starts an embedded server for the run. */
  databaseUrl?: string;
}

/** BenchStack is a benchmark's stack, with its data folder (its development keys sign tokens for load generators). */
export type BenchStack = Stack & { dataDir: string };

/**
 * startBenchStack starts a throwaway Fixup for a benchmark: a data folder of
 * its own, databases under a fresh prefix, free ports. Its stop also removes
 * the data folder and, on a DATABASE_URL server, the run's databases and roles (BENCH_KEEP=1 keeps them, and says
 * where the folder is).
 */
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `fixup-bench-${options.name}-`));
  // As root the embedded server runs as the postgres user, who must be able to enter the folder.
  chmodSync(dataDir, 0o755);
  const removeData = () => {
    if (process.env.BENCH_KEEP) process.stdout.write(`kept ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  };
  let stack: Stack;
  try {
    stack = await startStack({
      dataDir,
      adminUrl: options.databaseUrl,
      postgresPort: await freePort(),
      persistent: false,
      prefix: `${options.name}${randomBytes(3).toString('hex')}`,
      ports: {},
      env: options.env,
      nodeArgs: options.nodeArgs,
      instances: options.instances,
      production: options.production,
    });
  } catch (err) {
    removeData();
    throw err;
  }
  const stop = stack.stop.bind(stack);
  return Object.assign(stack, {
    dataDir,
    stop: async () => {
      try {
        await stop();
        // On a server of one's own (DATABASE_URL) the run's databases and roles go too; an embedded one goes with the
        // folder.
        if (options.databaseUrl && !process.env.BENCH_KEEP) await dropDatabases(options.databaseUrl, stack.grants);
      } finally {
        removeData();
      }
    },
  });
}
