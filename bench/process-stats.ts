import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CLOCK_TICKS is the kernel's unit of CPU time in /proc (USER_HZ). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * MeasuredProcess is one process (or, with tree, a process and its descendants, as PostgreSQL's backends) whose CPU and
 * memory a benchmark reads.
 */
export interface MeasuredProcess {
  name: string;
  pid: number;
  /** tree counts the CPU of the process's descendants too, living and exited. */
  tree?: boolean;
}

function stat(pid: number): { cpuMs: number; childCpuMs: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = (i: number) => Number(fields[i - 3]);
    return {
      cpuMs: ((ticks(14) + ticks(15)) * 1000) / CLOCK_TICKS,
      childCpuMs: ((ticks(16) + ticks(17)) * 1000) / CLOCK_TICKS,
    };
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // The process ended: it has no children to count.
  }
  return out;
}

/**
 * cpuMsOf is the CPU time (user and system) a process has used, with its descendants' when tree is set (exited ones
 * through their parent's reaped time).
 */
export function cpuMsOf(process: MeasuredProcess): number {
  const own = stat(process.pid);
  if (!own) return 0;
  if (!process.tree) return own.cpuMs;
  let total = own.cpuMs + own.childCpuMs;
  const stack = childrenOf(process.pid);
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const s = stat(pid);
    if (!s) continue;
    total += s.cpuMs + s.childCpuMs;
    stack.push(...childrenOf(pid));
  }
  return total;
}

/**
 * descendantsCpuMs is the CPU time every descendant of a process has used (living, and exited through their parent's
 * reaped time), without the process's own.
 */
export function descendantsCpuMs(pid: number): number {
  return cpuMsOf({ name: 'descendants', pid, tree: true }) - cpuMsOf({ name: 'self', pid });
}

/** residentMbOf is a process's resident memory now and at its peak, in MB (of the process alone, not its children). */
export function residentMbOf(pid: number): { now: number; peak: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { now: 0, peak: 0 };
  }
}

/** CpuReading is the CPU each process used over one stretch of load. */
export interface CpuReading {
  /** byProcess is CPU milliseconds per process over the stretch. */
  byProcess: Record<string, number>;
  totalMs: number;
}

/**
 * CpuMeter reads the CPU counters of a set of processes at the start and end
 * of a stretch of load, so that a benchmark can give CPU milliseconds per
 * request summed over every process: the figure that compares across
 * machines and days, where requests per second is for the day's run.
 */
export class CpuMeter {
  private start: Record<string, number> = {};

  constructor(private readonly processes: MeasuredProcess[]) {}

  /** begin notes every process's CPU counter. */
  begin(): void {
    this.start = Object.fromEntries(this.processes.map((p) => [p.name, cpuMsOf(p)]));
  }

  /** end gives the CPU each process used since begin. */
  end(): CpuReading {
    const byProcess: Record<string, number> = {};
    for (const p of this.processes) byProcess[p.name] = Math.max(0, cpuMsOf(p) - (this.start[p.name] ?? 0));
    return { byProcess, totalMs: Object.values(byProcess).reduce((a, b) => a + b, 0) };
  }
}

/** describeCpu prints CPU per request, in total and per process with its share, largest first. */
export function describeCpu(reading: CpuReading, requests: number): string {
  const per = (ms: number) => (requests > 0 ? ms / requests : 0);
  const parts = Object.entries(reading.byProcess)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([name, ms]) =>
        `${name} ${per(ms).toFixed(2)} (${reading.totalMs > 0 ? Math.round((100 * ms) / reading.totalMs) : 0}%)`,
    );
  return `CPU per request ${per(reading.totalMs).toFixed(2)} ms: ${parts.join(', ')}`;
}

/** describeMemory prints each process's resident memory now and at its peak. */
export function describeMemory(processes: MeasuredProcess[]): string {
  return processes
    .map((p) => {
      const { now, peak } = residentMbOf(p.pid);
      return `${p.name} ${now.toFixed(0)} MB (peak ${peak.toFixed(0)})`;
    })
    .join(', ');
}

/** LatencySummary is what a run of requests took. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}

/**
 * percentile gives the nearest-rank percentile (p from 0 to 1) of numbers sorted ascending: the smallest value with
 * at least p of them at or below it, so the 99th of 100 values is the second largest, not the largest; NaN when empty.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** summarize sorts latencies (milliseconds) and gives their count, median and 99th percentile. */
export function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5) || 0, p99: percentile(sorted, 0.99) || 0 };
}

/** quantiles gives the minimum, median and maximum of a list of numbers. */
export function quantiles(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? 0,
    median: sorted[Math.floor(sorted.length / 2)] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}
