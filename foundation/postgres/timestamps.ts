import pg from 'pg';

/** TIMESTAMPTZ is PostgreSQL's type oid of `timestamp with time zone`. */
export const TIMESTAMPTZ = 1184;

const pgParse = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

const ZERO = 48;

/** digits reads `count` decimal digits of `text` from `at`, or -1 when one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * parseTimestamptz reads a `timestamp with time zone` as PostgreSQL writes it with `DateStyle` ISO
 * (`2026-12-02 04:25:12.123456+00`, an offset of hours, minutes and seconds) straight from its characters: pg's own
 * parser (postgres-date) runs two or three regular expressions per value, 5% of the user subgraph's time when it reads
 * a few hundred users. Anything else (years before 1000 or past 9999, BC, infinity, another DateStyle) goes to pg's
 * parser, which this one matches to the millisecond (microseconds are dropped, as there).
 */
export function parseTimestamptz(text: string): Date | number | null {
  const length = text.length;
  if (
    length < 22 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 || // space
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58
  )
    return pgParse(text);
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 1000 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return pgParse(text);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 46) {
    // .fraction: its first three digits are the milliseconds
    const start = ++at;
    for (let scale = 100; at < length; at++, scale /= 10) {
      const d = text.charCodeAt(at) - ZERO;
      if (d < 0 || d > 9) break;
      if (scale >= 1) ms += d * scale;
    }
    if (at === start) return pgParse(text);
  }
  const sign = text.charCodeAt(at);
  if (sign !== 43 && sign !== 45) return pgParse(text); // + or -
  // The offset: hours, then :minutes and :seconds when not zero.
  let offset = digits(text, at + 1, 2) * 3600;
  at += 3;
  for (let unit = 60; at < length && unit >= 1; unit /= 60) {
    const part = text.charCodeAt(at) === 58 ? digits(text, at + 1, 2) : -1;
    if (part < 0) return pgParse(text);
    offset += part * unit;
    at += 3;
  }
  if (at !== length || offset < 0) return pgParse(text);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === 45 ? -offset : offset) * 1000);
}

/** pgTypes are the type parsers a pool's clients use: pg's own, but `timestamptz` read by parseTimestamptz. */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === TIMESTAMPTZ && format !== 'binary') return parseTimestamptz;
    return format ? pg.types.getTypeParser(oid, format) : pg.types.getTypeParser(oid);
  },
};
