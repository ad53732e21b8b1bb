import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from './errors.js';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageSize } from './pagination.js';

describe('pagination', () => {
  it('round-trips a cursor and refuses a forged one', () => {
    const cursor = encodeCursor(['2026-11-22T10:00:00.000Z', 'abc']);
    assert.deepEqual(decodeCursor(cursor, 'after', ['string', 'string']), ['2026-11-22T10:00:00.000Z', 'abc']);
    for (const bad of [
      '%%%',
      encodeCursor([1, 'x']),
      encodeCursor(['only-one']),
      Buffer.from('{"a":1}').toString('base64url'),
    ]) {
      assert.throws(
        () => decodeCursor(bad, 'after', ['string', 'string']),
        (err: AppError) => err.code === 'BAD_USER_INPUT' && err.details.field === 'after',
      );
    }
  });

  it('refuses first above the maximum or below zero', () => {
    assert.equal(pageSize(undefined, 'first'), 20);
    assert.equal(pageSize(MAX_PAGE_SIZE, 'first'), 100);
    for (const bad of [101, -1, 2.5]) {
      assert.throws(
        () => pageSize(bad, 'first'),
        (err: AppError) => err.code === 'BAD_USER_INPUT' && err.details.field === 'first',
      );
    }
  });
});
