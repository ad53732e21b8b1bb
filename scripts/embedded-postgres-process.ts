// Runs the embedded PostgreSQL in a process of its own, started detached by
// the launcher, so that Ctrl-C in the terminal reaches the launcher only and
// the database stops last, after every service has drained. It stops when told
// to over IPC, on SIGTERM, or when the launcher goes away.
import { startEmbeddedPostgres } from '../foundation/postgres/embedded.js';

const options = JSON.parse(process.env.FIXUP_EMBEDDED_POSTGRES ?? '{}') as {
  dataDir: string;
  port: number;
  password: string;
  persistent: boolean;
};
const logs: string[] = [];
try {
  const server = await startEmbeddedPostgres({ ...options, onLog: (m) => logs.push(m) });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on('message', (message) => {
    if (message === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.send?.({ ready: true, adminUrl: server.adminUrl });
} catch (err) {
  process.send?.({ ready: false, error: `${(err as Error).message}\n${logs.slice(-20).join('')}` });
  process.exit(1);
}
