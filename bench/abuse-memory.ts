// Profiling aid for npm run bench:abuse's memory figure: sends each hostile document
// alone, 4 clients back to back, and prints the gateway's resident memory and heap.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startStack, type Stack } from '../scripts/stack.js';
import { GENEROUS_RATE_LIMITS } from '../e2e/harness.js';
import { metricValue } from './readings.js';
import { HOSTILE } from './abuse-documents.js';

const residentMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!.split(/\s+/)[1]) / 1024;
const dataDir = mkdtempSync(join(tmpdir(), 'fixup-bench-abuse-memory-'));
chmodSync(dataDir, 0o755);
let stack: Stack | undefined;
try {
  stack = await startStack({
    dataDir,
    adminUrl: process.env.DATABASE_URL,
    postgresPort: await freePort(),
    persistent: false,
    prefix: `abusemem${randomBytes(3).toString('hex')}`,
    ports: {},
    nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    env: { ...GENEROUS_RATE_LIMITS, GATEWAY_TRUST_PROXY: 'loopback', LOG_LEVEL: 'warn', CATALOG_SEED_DEMO: 'false' },
  });
  const gateway = stack.services.find((s) => s.name === 'gateway')!;
  const report = async (label: string) => {
    const heap = (await metricValue(gateway.admin, 'nodejs_heap_size_used_bytes')) / 1e6;
    const total = (await metricValue(gateway.admin, 'nodejs_heap_size_total_bytes')) / 1e6;
    process.stdout.write(`${label.padEnd(22)} resident ${residentMb(gateway.pid).toFixed(0)} MB, heap used ${heap.toFixed(0)} MB of ${total.toFixed(0)} MB\n`);
  };
  await report('at rest');
  const count = Number(process.env.COUNT ?? 100);
  const rounds = Number(process.env.ROUNDS ?? 1);
  const only = process.env.DOCS ? process.env.DOCS.split(',').map(Number) : HOSTILE.map((_, i) => i);
  for (const i of Array.from({ length: rounds }, () => only).flat()) {
    const query = HOSTILE[i]!;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, residentMb(gateway.pid))), 50);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async (_, n) => {
        for (let k = 0; k < count / 4; k++) {
          const res = await fetch(stack!.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${n + 1}` }, body: JSON.stringify({ query }) });
          await res.arrayBuffer();
        }
      }),
    );
    clearInterval(sampler);
    await report(`doc ${i} (${query.length} B) ${((performance.now() - started) / count).toFixed(1)} ms/req, peak ${peak.toFixed(0)}`);
  }
} finally {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
