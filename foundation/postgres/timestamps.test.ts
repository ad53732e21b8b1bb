import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { parseTimestamptz, pgTypes, TIMESTAMPTZ } from './timestamps.js';

const pgParse = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

/** same compares two parsed values: dates by their time, anything else as is. */
function same(text: string): void {
  const fast = parseTimestamptz(text);
  const slow = pgParse(text);
  if (slow instanceof Date) {
    assert.ok(fast instanceof Date, text);
    assert.equal(fast.getTime(), slow.getTime(), text);
  } else assert.deepEqual(fast, slow, text);
}

describe('timestamptz parsing', () => {
  it("reads what PostgreSQL writes as pg's own parser does", () => {
    for (const text of [
      '2026-12-02 04:25:12+00',
      '2026-12-02 04:25:12.1+00',
      '2026-12-02 04:25:12.12+00',
      '2026-12-02 04:25:12.123+00',
      '2026-12-02 04:25:12.1239+00',
      '2026-12-02 04:25:12.123456+00',
      '2026-12-02 04:25:12.999999+00',
      '2026-12-02 04:25:12.5+05:30',
      '2026-12-02 04:25:12-03',
      '2026-12-02 04:25:12.000001-09:30',
      '1850-01-01 00:00:00+00:53:28',
      '1850-01-01 00:00:00-00:25:21',
      '2024-02-29 23:59:59.999+14',
      '1970-01-01 00:00:00+00',
      '1000-01-01 00:00:00+00',
      '9999-12-31 23:59:59.999999+00',
      // pg's parser takes these:
      '0099-06-01 12:00:00+00',
      '0001-01-01 00:00:00+00 BC',
      '10000-01-01 00:00:00+00',
      'infinity',
      '-infinity',
      '2026-12-02',
      '2026-12-02T04:25:12Z',
      '2026-12-02 04:25:12',
      '2026-12-02 04:25:12.+00',
      '2026-12-02 04:25:12+0',
      '2026-12-02 04:25:12+05:3',
    ])
      same(text);
  });

  it('agrees with it on 20,000 instants across zones and fractions', () => {
    let seed = 7;
    const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let i = 0; i < 20_000; i++) {
      const at = new Date(Date.UTC(1000 + next(9000), next(12), 1 + next(28), next(24), next(60), next(60)));
      const fraction = [
        '',
        '.' +
          String(next(1_000_000))
            .padStart(6, '0')
            .slice(0, 1 + next(6)),
      ][next(2)];
      const hours = String(next(15)).padStart(2, '0');
      const minutes = ['', ':30', ':45', `:${String(next(60)).padStart(2, '0')}:${String(next(60)).padStart(2, '0')}`][
        next(4)
      ];
      const text = `${at.toISOString().slice(0, 19).replace('T', ' ')}${fraction}${next(2) ? '+' : '-'}${hours}${minutes}`;
      same(text);
    }
  });

  it('is the parser a pool gets for timestamptz, and pg its own for every other type', () => {
    assert.equal(pgTypes.getTypeParser(TIMESTAMPTZ, 'text'), parseTimestamptz);
    assert.equal(pgTypes.getTypeParser(TIMESTAMPTZ), parseTimestamptz);
    assert.equal(pgTypes.getTypeParser(1114, 'text'), pg.types.getTypeParser(1114, 'text'));
    assert.equal(pgTypes.getTypeParser(TIMESTAMPTZ, 'binary'), pg.types.getTypeParser(TIMESTAMPTZ, 'binary'));
  });
});
