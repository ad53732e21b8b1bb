import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricNamesOf } from './promql.js';

describe('metricNamesOf', () => {
  it('finds the series of an expression, not its functions, labels or keywords', () => {
    assert.deepEqual(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (le, operation) (rate(fixup_x_bucket{service="gateway", a=~"b|c"}[$__rate_interval]))) > 1',
      ),
      ['fixup_x_bucket'],
    );
    assert.deepEqual(metricNamesOf('sum by (service) (a{state="busy"}) / sum by (service) (b) > 0.9 and sum(c) > 0'), [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(metricNamesOf('x / ignoring(outcome) group_left sum(y)'), ['x', 'y']);
    assert.deepEqual(metricNamesOf('up{job=~"fixup-.*"} == 0'), ['up']);
  });
});
