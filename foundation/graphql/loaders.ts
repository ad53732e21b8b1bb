import { trace } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import { spansExported } from '../telemetry/tracing.js';

const tracer = trace.getTracer('fixup.loaders');

/** batchSpan runs one batched load in a span of its own: one span per batch, however many objects it loads. */
function batchSpan<T>(name: string, size: number, load: () => Promise<T>): Promise<T> {
  if (!spansExported()) return load();
  return tracer.startActiveSpan(`load ${name}`, { attributes: { 'fixup.batch_size': size } }, async (span) => {
    try {
      return await load();
    } finally {
      span.end();
    }
  });
}

/**
 * byIdLoader batches look-ups by id within one request: fetch gets every id
 * asked for in one tick and returns the rows it found, in any order; ids with
 * no row resolve to null.
 */
export function byIdLoader<T extends { id: string }>(
  name: string,
  fetch: (ids: readonly string[]) => Promise<T[]>,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await batchSpan(name, ids.length, () => fetch(ids));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/**
 * groupLoader batches one-to-many look-ups within one request: fetch returns
 * the children of every key asked for, and keyOf says whose child each is.
 */
export function groupLoader<K, T>(
  name: string,
  fetch: (keys: readonly K[]) => Promise<T[]>,
  keyOf: (row: T) => K,
): DataLoader<K, T[]> {
  return new DataLoader<K, T[]>(async (keys) => {
    const rows = await batchSpan(name, keys.length, () => fetch(keys));
    const groups = new Map<K, T[]>();
    for (const row of rows) {
      const key = keyOf(row);
      const list = groups.get(key);
      if (list) list.push(row);
      else groups.set(key, [row]);
    }
    return keys.map((key) => groups.get(key) ?? []);
  });
}
