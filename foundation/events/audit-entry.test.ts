import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrubMetadata } from './audit-entry.js';

describe('scrubMetadata', () => {
  it('drops every key that could hold a password or a token, at any depth', () => {
    const scrubbed = scrubMetadata({
      role: 'PROVIDER',
      password: 'hunter2',
      newPassword: 'x',
      refreshToken: 'y',
      nested: { accessToken: 'z', passwordHash: 'h', kept: 1, deeper: { clientSecret: 's', ok: true } },
      reason: 'wrong_password',
    });
    assert.deepEqual(scrubbed, {
      role: 'PROVIDER',
      nested: { kept: 1, deeper: { ok: true } },
      reason: 'wrong_password',
    });
  });
});
