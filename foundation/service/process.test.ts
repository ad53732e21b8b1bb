import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { collectStartGarbage } from './process.js';

describe('collectStartGarbage', () => {
  it("collects the start's garbage at once, and leaves no gc function behind", () => {
    let garbage: number[][] | undefined = Array.from({ length: 200 }, () =>
      Array.from({ length: 20_000 }, (_, i) => i),
    );
    const before = getHeapStatistics().used_heap_size;
    assert.ok(garbage.length === 200 && before > 30e6, 'the garbage is on the heap');
    garbage = undefined;
    collectStartGarbage();
    const after = getHeapStatistics().used_heap_size;
    assert.ok(
      before - after > 25e6,
      `a full collection ran (${(before / 1e6).toFixed(0)} -> ${(after / 1e6).toFixed(0)} MB)`,
    );
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  });
});
