import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Argon2Hasher, BoundedHasher } from './passwords.js';

describe('BoundedHasher', () => {
  it('runs at most `concurrency` hashes, queues a few, and refuses the rest with RATE_LIMITED at once', async () => {
    const hasher = new BoundedHasher(new Argon2Hasher(), { concurrency: 1, queue: 1 });
    const outcomes = await Promise.allSettled([
      hasher.hash('password one!'),
      hasher.hash('password two!'),
      hasher.hash('password three!'),
    ]);
    assert.equal(outcomes[0]!.status, 'fulfilled');
    assert.equal(outcomes[1]!.status, 'fulfilled', 'the queued one runs after');
    assert.equal(outcomes[2]!.status, 'rejected');
    assert.equal(((outcomes[2] as PromiseRejectedResult).reason as { code: string }).code, 'RATE_LIMITED');
    const stored = (outcomes[0] as PromiseFulfilledResult<string>).value;
    assert.equal(await hasher.verify(stored, 'password one!'), true, 'slots are given back');
    assert.equal(await hasher.verify(stored, 'password two!'), false);
  });
});
