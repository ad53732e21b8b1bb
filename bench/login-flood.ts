// npm run bench:logins -- [--duration=10] [--attackers=50] [--concurrency=4]
// Measures what a flood of wrong logins does to everyone else: p50/p99 of the
// contract's Me (served by the user subgraph, where passwords are hashed) and
// of a catalog query, first alone, then while 50 addresses send wrong logins
// as fast as they can; side by side in one run, with CPU milliseconds per
// legitimate request summed over every process.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadSettings, positiveIntSchema, setting } from '../foundation/config.js';
import { freePort, startStack, type Stack } from '../scripts/stack.js';

const settings = loadSettings(
  {
    duration: setting({ env: 'BENCH_DURATION_SECONDS', doc: 'seconds of each phase', schema: positiveIntSchema, fallback: '10' }),
    attackers: setting({ env: 'BENCH_ATTACKERS', doc: 'addresses sending wrong logins as fast as they can', schema: positiveIntSchema, fallback: '50' }),
    concurrency: setting({ env: 'BENCH_CONCURRENCY', doc: 'legitimate requests in flight at once', schema: positiveIntSchema, fallback: '4' }),
    databaseUrl: setting({ env: 'DATABASE_URL', doc: 'PostgreSQL superuser URL (default: an embedded server made for the run)', schema: z.string().optional() }),
  },
  process.argv.slice(2),
  process.env,
  'Fixup login-flood benchmark',
);

const say = (text: string) => process.stdout.write(text + '\n');
const dataDir = mkdtempSync(join(tmpdir(), 'fixup-bench-'));
chmodSync(dataDir, 0o755);

async function post(stack: Stack, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await fetch(stack.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

/** cpuSeconds sums process_cpu_seconds_total over every process of the stack. */
async function cpuSeconds(stack: Stack): Promise<number> {
  let total = 0;
  for (const s of stack.services) {
    const text = await (await fetch(new URL('/metrics', s.admin))).text();
    total += Number(text.split('\n').find((l) => l.startsWith('process_cpu_seconds_total '))?.split(' ')[1] ?? 0);
  }
  return total;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Phase {
  me: number[];
  catalog: number[];
  cpuMsPerRequest: number;
  logins: Record<string, number>;
}

async function phase(stack: Stack, token: string, victim: string, attackers: number): Promise<Phase> {
  const out: Phase = { me: [], catalog: [], cpuMsPerRequest: 0, logins: {} };
  const cpuBefore = await cpuSeconds(stack);
  const deadline = Date.now() + settings.duration * 1000;
  const legit = async (i: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      const me = (i + n) % 2 === 0;
      const started = performance.now();
      await post(stack, me ? '{ me { id displayName } }' : '{ categories { id name } }', {}, { authorization: `Bearer ${token}`, 'x-forwarded-for': '192.0.2.1' });
      (me ? out.me : out.catalog).push(performance.now() - started);
    }
  };
  const attack = async (a: number) => {
    const ip = `198.51.${Math.floor(a / 250)}.${(a % 250) + 1}`;
    for (let n = 0; Date.now() < deadline; n++) {
      const res = await post(stack, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: n % 2 ? victim : `nobody-${a}-${n}@bench.example`, p: `wrong password ${n}` }, { 'x-forwarded-for': ip });
      const code = res.errors?.[0]?.extensions?.code ?? 'OK';
      out.logins[code] = (out.logins[code] ?? 0) + 1;
    }
  };
  await Promise.all([...Array.from({ length: settings.concurrency }, (_, i) => legit(i)), ...Array.from({ length: attackers }, (_, a) => attack(a))]);
  out.cpuMsPerRequest = ((await cpuSeconds(stack)) - cpuBefore) * 1000 / (out.me.length + out.catalog.length);
  out.me.sort((a, b) => a - b);
  out.catalog.sort((a, b) => a - b);
  return out;
}

let stack: Stack | undefined;
try {
  say('Starting Fixup for the benchmark…');
  stack = await startStack({
    dataDir,
    adminUrl: settings.databaseUrl,
    postgresPort: await freePort(),
    persistent: false,
    prefix: `bench${randomBytes(3).toString('hex')}`,
    ports: {},
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', CATALOG_SEED_DEMO: 'true', GATEWAY_TRUST_PROXY: 'loopback' },
  });
  const email = `victim-${randomBytes(4).toString('hex')}@bench.example`;
  const reg = await post(stack, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', { i: { email, password: 'bench password 123', displayName: 'Victim', role: 'CUSTOMER' } }, { 'x-forwarded-for': '192.0.2.1' });
  const token = reg.data.register.accessToken as string;
  say(`Each phase ${settings.duration} s, ${settings.concurrency} legitimate clients; the machine may be shared, so compare the two columns of one run.\n`);
  const quiet = await phase(stack, token, email, 0);
  const flood = await phase(stack, token, email, settings.attackers);
  const row = (label: string, a: number, b: number, unit = 'ms') => say(`| ${label} | ${a.toFixed(1)} ${unit} | ${b.toFixed(1)} ${unit} | ${(b / a).toFixed(2)}× |`);
  say(`| measure | alone | with ${settings.attackers} addresses sending wrong logins | ratio |`);
  say('| --- | --- | --- | --- |');
  row('Me p50', percentile(quiet.me, 50), percentile(flood.me, 50));
  row('Me p99', percentile(quiet.me, 99), percentile(flood.me, 99));
  row('categories p50', percentile(quiet.catalog, 50), percentile(flood.catalog, 50));
  row('categories p99', percentile(quiet.catalog, 99), percentile(flood.catalog, 99));
  row('CPU per legitimate request, all processes', quiet.cpuMsPerRequest, flood.cpuMsPerRequest);
  say(`\nlegitimate requests: ${quiet.me.length + quiet.catalog.length} alone, ${flood.me.length + flood.catalog.length} under the flood`);
  say(`login answers under the flood: ${JSON.stringify(flood.logins)}`);
} finally {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
