import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile, summarize } from './process-stats.js';

describe('benchmark statistics', () => {
  it('takes nearest-rank percentiles: the 99th of 100 values is the second largest', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(hundred, 0.99), 99);
    assert.equal(percentile(hundred, 0.5), 50);
    assert.equal(percentile(hundred, 1), 100);
    assert.equal(percentile(hundred, 0), 1);
    // With 20 values the 99th percentile is the largest: no smaller value has 99 % at or below it.
    assert.equal(percentile(hundred.slice(0, 20), 0.99), 20);
    assert.ok(Number.isNaN(percentile([], 0.99)));
  });

  it('summarizes unsorted latencies', () => {
    assert.deepEqual(summarize([5, 1, 4, 2, 3]), { count: 5, p50: 3, p99: 5 });
    assert.deepEqual(summarize([]), { count: 0, p50: 0, p99: 0 });
  });
});
