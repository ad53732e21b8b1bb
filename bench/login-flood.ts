// npm run bench:logins -- [--duration=10] [--attackers=50] [--concurrency=4]
// Measures what a flood of wrong logins does to everyone else: p50/p99 of the
// contract's Me for a bystander and for the account under attack (both served
// by the user subgraph, where passwords are hashed) and of a catalog query,
// first alone, then while 50 addresses send wrong logins (half of them for the
// victim's email) as fast as they can; side by side in one run, with CPU
// milliseconds per legitimate request summed over every Node process.
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { loadSettings, positiveIntSchema, setting } from '../foundation/service/config.js';
import type { Stack } from '../scripts/stack.js';
import { benchStackSettings, startBenchStack } from './bench-stack.js';
import { percentile } from './process-stats.js';

const settings = loadSettings(
  {
    duration: setting({
      env: 'BENCH_DURATION_SECONDS',
      doc: 'seconds of each phase (alone, then under the flood)',
      schema: positiveIntSchema,
      fallback: '10',
    }),
    attackers: setting({
      env: 'BENCH_ATTACKERS',
      doc: 'addresses sending wrong logins as fast as they can',
      schema: positiveIntSchema,
      fallback: '50',
    }),
    concurrency: setting({
      env: 'BENCH_CONCURRENCY',
      doc: 'legitimate requests in flight at once',
      schema: positiveIntSchema,
      fallback: '4',
    }),
    ...benchStackSettings,
  },
  process.argv.slice(2),
  process.env,
  'Fixup login-flood benchmark',
);

const say = (text: string) => process.stdout.write(text + '\n');

async function post(stack: Stack, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await fetch(stack.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

/** CPU_LINE reads process_cpu_seconds_total, with or without labels (the services label theirs with `service`). */
const CPU_LINE = /^process_cpu_seconds_total(?:\{[^}]*\})? (\S+)$/m;

/** cpuSeconds sums process_cpu_seconds_total over every Node process of the stack (PostgreSQL not included). */
async function cpuSeconds(stack: Stack): Promise<number> {
  let total = 0;
  for (const s of stack.services) {
    const text = await (await fetch(new URL('/metrics', s.admin))).text();
    const found = CPU_LINE.exec(text);
    if (!found) throw new Error(`${s.name} reports no process_cpu_seconds_total`);
    total += Number(found[1]);
  }
  return total;
}

interface Phase {
  me: number[];
  victim: number[];
  catalog: number[];
  cpuMsPerRequest: number;
  logins: Record<string, number>;
}

async function phase(
  stack: Stack,
  tokens: { bystander: string; victim: string },
  victim: string,
  attackers: number,
): Promise<Phase> {
  const out: Phase = { me: [], victim: [], catalog: [], cpuMsPerRequest: 0, logins: {} };
  const cpuBefore = await cpuSeconds(stack);
  const deadline = Date.now() + settings.duration * 1000;
  const legit = async (i: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      const kind = (i + n) % 3;
      const started = performance.now();
      await post(
        stack,
        kind === 2 ? '{ categories { id name } }' : '{ me { id displayName } }',
        {},
        { authorization: `Bearer ${kind === 1 ? tokens.victim : tokens.bystander}`, 'x-forwarded-for': '192.0.2.1' },
      );
      (kind === 0 ? out.me : kind === 1 ? out.victim : out.catalog).push(performance.now() - started);
    }
  };
  const attack = async (a: number) => {
    const ip = `198.51.${Math.floor(a / 250)}.${(a % 250) + 1}`;
    for (let n = 0; Date.now() < deadline; n++) {
      const res = await post(
        stack,
        'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        { e: n % 2 ? victim : `nobody-${a}-${n}@bench.example`, p: `wrong password ${n}` },
        { 'x-forwarded-for': ip },
      );
      const code = res.errors?.[0]?.extensions?.code ?? 'OK';
      out.logins[code] = (out.logins[code] ?? 0) + 1;
    }
  };
  await Promise.all([
    ...Array.from({ length: settings.concurrency }, (_, i) => legit(i)),
    ...Array.from({ length: attackers }, (_, a) => attack(a)),
  ]);
  out.cpuMsPerRequest =
    (((await cpuSeconds(stack)) - cpuBefore) * 1000) / (out.me.length + out.victim.length + out.catalog.length);
  out.me.sort((a, b) => a - b);
  out.victim.sort((a, b) => a - b);
  out.catalog.sort((a, b) => a - b);
  return out;
}

let stack: Stack | undefined;
try {
  say('Starting Fixup for the benchmark…');
  stack = await startBenchStack({
    name: 'logins',
    databaseUrl: settings.databaseUrl,
    nodeArgs: settings.nodeArgs.split(' ').filter(Boolean),
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', CATALOG_SEED_DEMO: 'true', GATEWAY_TRUST_PROXY: 'loopback' },
  });
  const register = async (email: string, name: string) =>
    (
      await post(
        stack!,
        'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }',
        { i: { email, password: 'bench password 123', displayName: name, role: 'CUSTOMER' } },
        { 'x-forwarded-for': '192.0.2.1' },
      )
    ).data.register.accessToken as string;
  const email = `victim-${randomBytes(4).toString('hex')}@bench.example`;
  const tokens = {
    victim: await register(email, 'Victim'),
    bystander: await register(`bystander-${randomBytes(4).toString('hex')}@bench.example`, 'Bystander'),
  };
  say(
    `Each phase ${settings.duration} s, ${settings.concurrency} legitimate clients; the machine may be shared, so compare the two columns of one run.\n`,
  );
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadBefore = load();
  const quiet = await phase(stack, tokens, email, 0);
  const loadQuiet = load();
  const flood = await phase(stack, tokens, email, settings.attackers);
  const loadFlood = load();
  const row = (label: string, a: number, b: number, unit = 'ms') =>
    say(`| ${label} | ${a.toFixed(1)} ${unit} | ${b.toFixed(1)} ${unit} | ${(b / a).toFixed(2)}× |`);
  say(`| measure | alone | with ${settings.attackers} addresses sending wrong logins | ratio |`);
  say('| --- | --- | --- | --- |');
  row('Me p50 (a bystander)', percentile(quiet.me, 0.5), percentile(flood.me, 0.5));
  row('Me p99 (a bystander)', percentile(quiet.me, 0.99), percentile(flood.me, 0.99));
  row("Me p50 (the attacked account's owner)", percentile(quiet.victim, 0.5), percentile(flood.victim, 0.5));
  row("Me p99 (the attacked account's owner)", percentile(quiet.victim, 0.99), percentile(flood.victim, 0.99));
  row('categories p50', percentile(quiet.catalog, 0.5), percentile(flood.catalog, 0.5));
  row('categories p99', percentile(quiet.catalog, 0.99), percentile(flood.catalog, 0.99));
  row('CPU per legitimate request, all Node processes', quiet.cpuMsPerRequest, flood.cpuMsPerRequest);
  const count = (p: Phase) => p.me.length + p.victim.length + p.catalog.length;
  say(`\nlegitimate requests: ${count(quiet)} alone, ${count(flood)} under the flood`);
  say(`login answers under the flood: ${JSON.stringify(flood.logins)}`);
  say(
    `load average (1, 5, 15 min): ${loadBefore} before, ${loadQuiet} after the first phase, ${loadFlood} after the flood; ${availableParallelism()} cores`,
  );
} finally {
  await stack?.stop();
}
