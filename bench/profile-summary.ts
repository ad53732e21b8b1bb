// node dist/bench/profile-summary.js <file.cpuprofile> [--top=25] [--from=<seconds>] [--to=<seconds>]
// Summarizes a V8 CPU profile (node --cpu-prof) by where the time is spent:
// self time per package (or Node internals, garbage collection, idle) and
// the functions with the most self time, as shares of the busy time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** areaOf names the package, project folder or runtime part a function belongs to. */
function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)' || name === '(idle)' || name === '(program)' || name === '(root)') return name;
  if (!url) return `(native) ${name}`;
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0
    ? url
        .slice(dist + 6)
        .split('/')
        .slice(0, -1)
        .join('/') || url
    : url;
}

const file = process.argv[2];
const top = Number(/--top=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 25);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [--top=25]');
const from = Number(/--from=([\d.]+)/.exec(process.argv.join(' '))?.[1] ?? 0) * 1e6;
const to = Number(/--to=([\d.]+)/.exec(process.argv.join(' '))?.[1] ?? Infinity) * 1e6;
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
let clock = 0;
// A sample stands for the time until the next one (as Chrome's DevTools count it).
profile.samples.forEach((id, i) => {
  clock += profile.timeDeltas[i] ?? 0;
  const spent = profile.timeDeltas[i + 1] ?? 0;
  if (clock >= from && clock <= to) self.set(id, (self.get(id) ?? 0) + spent);
});
const areas = new Map<string, number>();
const functions = new Map<string, number>();
let busy = 0;
for (const [id, us] of self) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const area = areaOf(url, functionName);
  if (area === '(idle)') continue;
  busy += us;
  areas.set(area, (areas.get(area) ?? 0) + us);
  const key = `${functionName || '(anonymous)'} ${area}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
process.stdout.write(
  `profile ${(clock / 1e6).toFixed(1)} s, counted from ${(from / 1e6).toFixed(1)} s${Number.isFinite(to) ? ` to ${(to / 1e6).toFixed(1)} s` : ''}: busy ${(busy / 1000).toFixed(0)} ms\n\nself time by area:\n`,
);
for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`  ${pct(us)}  ${area}\n`);
process.stdout.write('\nself time by function:\n');
for (const [fn, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`  ${pct(us)}  ${fn}\n`);
