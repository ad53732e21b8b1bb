import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isId, newId, parseId } from './ids.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapPerItem is how many bytes of heap each of 20,000 values kept alive takes. */
function heapPerItem(make: () => string): number {
  const kept = new Array<string>(20_000);
  gc();
  const before = getHeapStatistics().used_heap_size;
  for (let i = 0; i < kept.length; i++) kept[i] = make();
  gc();
  const after = getHeapStatistics().used_heap_size;
  assert.equal(new Set(kept).size, kept.length);
  return (after - before) / kept.length;
}

describe('ids', () => {
  it('makes distinct version 4 UUIDs that parseId accepts', () => {
    const id = newId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(isId(id), true);
    assert.equal(parseId(id, 'id'), id);
    assert.notEqual(newId(), id);
  });

  it('keeps an id in a flat string, a fraction of what crypto.randomUUID keeps', () => {
    const flat = heapPerItem(newId);
    const joined = heapPerItem(randomUUID);
    assert.ok(flat < 100, `${flat.toFixed(0)} bytes per id`);
    assert.ok(joined > 2 * flat, `randomUUID ${joined.toFixed(0)} bytes per id, newId ${flat.toFixed(0)}`);
  });

  it('refuses what is not an id, naming the field', () => {
    assert.throws(() => parseId('nope', 'orderId'), /orderId is not a valid id/);
  });
});
