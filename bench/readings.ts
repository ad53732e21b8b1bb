import type { Stack } from '../scripts/stack.js';

/**
 * metricValue reads one sample of a Prometheus metric from a service's /metrics (on its admin listener), the first
 * whose labels include `labels`.
 */
export async function metricValue(adminUrl: string, metric: string, labels = ''): Promise<number> {
  const text = await (await fetch(new URL('/metrics', adminUrl))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(labels));
  return Number(line?.split(' ').pop() ?? 0);
}

/** metricSum adds up every series of a metric (all its labels) that a process's /metrics shows. */
export async function metricSum(adminUrl: string, metric: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', adminUrl))).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) sum += Number(line.split(' ').pop() ?? 0);
  return sum;
}

/** memory describes the heap in use and the resident memory of the named processes of a stack. */
export async function memory(stack: Stack, names?: string[]): Promise<string> {
  const parts: string[] = [];
  for (const s of stack.services.filter((s) => !names || names.includes(s.name))) {
    const heap = (await metricValue(s.admin, 'nodejs_heap_size_used_bytes')) / 1e6;
    const resident = (await metricValue(s.admin, 'process_resident_memory_bytes')) / 1e6;
    parts.push(`${s.name} heap ${heap.toFixed(0)} MB, resident ${resident.toFixed(0)} MB`);
  }
  return parts.join('; ');
}
