// node dist/bench/abuse-memory.js [--docs=0,4] [--rounds=1] [--count=100] [--socket=true]
// Profiling aid for npm run bench:abuse's memory figure: sends each hostile document
// alone, 4 clients back to back (and the hostile subscription on a socket), and
// prints the gateway's resident memory and heap after each round.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { booleanSchema, loadSettings, positiveIntSchema, setting } from '../foundation/service/config.js';
import type { Stack } from '../scripts/stack.js';
import { benchStackSettings, startBenchStack } from './bench-stack.js';
import { GENEROUS_RATE_LIMITS } from '../e2e/harness.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { HOSTILE, HOSTILE_SUBSCRIPTION } from './abuse-documents.js';

const settings = loadSettings(
  {
    docs: setting({
      env: 'DOCS',
      doc: 'which hostile documents to send, by index in bench/abuse-documents.ts, comma-separated (default: all)',
      schema: z.string(),
      fallback: '',
    }),
    rounds: setting({ env: 'ROUNDS', doc: 'times each kind is sent', schema: positiveIntSchema, fallback: '1' }),
    count: setting({
      env: 'COUNT',
      doc: 'requests (or subscribe messages) per round',
      schema: positiveIntSchema,
      fallback: '100',
    }),
    socket: setting({
      env: 'SOCKET',
      doc: 'also send the hostile subscription on one socket',
      schema: booleanSchema,
      fallback: 'false',
    }),
    snapshots: setting({
      env: 'SNAPSHOTS',
      doc: 'send SIGUSR2 to the gateway after each socket round (with BENCH_NODE_ARGS=--heapsnapshot-signal=SIGUSR2: a heap snapshot in the working directory)',
      schema: booleanSchema,
      fallback: 'false',
    }),
    ...benchStackSettings,
  },
  process.argv.slice(2),
  process.env,
  'Fixup abuse memory probe',
);
const residentMb = (pid: number) =>
  Number(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'))!
      .split(/\s+/)[1],
  ) / 1024;
let stack: Stack | undefined;
try {
  stack = await startBenchStack({
    name: 'abusemem',
    databaseUrl: settings.databaseUrl,
    nodeArgs: settings.nodeArgs.split(' ').filter(Boolean),
    env: { ...GENEROUS_RATE_LIMITS, GATEWAY_TRUST_PROXY: 'loopback', LOG_LEVEL: 'warn', CATALOG_SEED_DEMO: 'false' },
  });
  const gateway = stack.services.find((s) => s.name === 'gateway')!;
  // The parts of the gateway's memory, from its /metrics: V8's heap (and its young generation), and memory outside it
  // (Buffers' backing stores).
  const parts = async () => {
    const text = await (await fetch(new URL('/metrics', gateway.admin))).text();
    const mb = (metric: string, labels = '') =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${metric}{`) && l.includes(labels))
          ?.split(' ')
          .pop() ?? 0,
      ) / 1e6;
    return {
      heapUsed: mb('nodejs_heap_size_used_bytes'),
      heapTotal: mb('nodejs_heap_size_total_bytes'),
      young: mb('nodejs_heap_space_size_total_bytes', 'space="new"'),
      large: mb('nodejs_heap_space_size_total_bytes', 'space="large_object"'),
      external: mb('nodejs_external_memory_bytes'),
    };
  };
  let peakParts: Record<string, number> = {};
  const sampleParts = async () => {
    const p = await parts().catch(() => ({}) as Record<string, number>);
    for (const [k, v] of Object.entries(p)) peakParts[k] = Math.max(peakParts[k] ?? 0, v);
  };
  const report = async (label: string) => {
    const p = await parts();
    const peak = Object.entries(peakParts)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
    process.stdout.write(
      `${label.padEnd(22)} resident ${residentMb(gateway.pid).toFixed(0)} MB, heap used ${p.heapUsed.toFixed(0)} of ${p.heapTotal.toFixed(0)} (young ${p.young.toFixed(0)}, large objects ${p.large.toFixed(0)}), external ${p.external.toFixed(0)}${peak ? `; peaks: ${peak}` : ''}\n`,
    );
    peakParts = {};
  };
  await report('at rest');
  /**
   * startSampler reads the gateway's resident memory (and heap parts) every 100 ms until stop, which gives the peak.
   */
  const startSampler = () => {
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, residentMb(gateway.pid));
      void sampleParts();
    }, 100);
    return {
      stop: () => {
        clearInterval(timer);
        return peak;
      },
    };
  };
  const count = settings.count;
  const rounds = settings.rounds;
  const only = settings.docs ? settings.docs.split(',').map(Number) : HOSTILE.map((_, i) => i);
  for (const i of Array.from({ length: rounds }, () => only).flat()) {
    const query = HOSTILE[i]!;
    const sampler = startSampler();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async (_, n) => {
        for (let k = 0; k < count / 4; k++) {
          const res = await fetch(stack!.endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${n + 1}` },
            body: JSON.stringify({ query }),
          });
          await res.arrayBuffer();
        }
      }),
    );
    const peak = sampler.stop();
    await report(
      `doc ${i} (${query.length} B) ${((performance.now() - started) / count).toFixed(1)} ms/req, peak ${peak.toFixed(0)}`,
    );
  }
  if (settings.socket) {
    for (let round = 0; round < rounds; round++) {
      const sampler = startSampler();
      const started = performance.now();
      const client = createClient({
        url: stack.endpoint.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
      });
      for (let k = 0; k < count; k++) {
        await new Promise<void>((resolve) =>
          client.subscribe(
            { query: HOSTILE_SUBSCRIPTION },
            { next: () => {}, error: () => resolve(), complete: () => resolve() },
          ),
        );
      }
      await client.dispose();
      const peak = sampler.stop();
      await report(
        `socket (${HOSTILE_SUBSCRIPTION.length} B) ${((performance.now() - started) / count).toFixed(1)} ms/msg, peak ${peak.toFixed(0)}`,
      );
      if (settings.snapshots) {
        process.kill(gateway.pid, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 8000));
      }
    }
  }
} finally {
  await stack?.stop();
}
