import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import { VerifiedTokens } from './tokens.js';

/** CountingVerifier stands for the signature check: it counts the checks and accepts every token for a minute. */
class CountingVerifier {
  checks = 0;
  async verify(token: string): Promise<JWTPayload> {
    this.checks++;
    if (token === 'bad') throw new Error('bad signature');
    return { sub: token, exp: Math.floor(Date.now() / 1000) + 60 };
  }
}

describe('VerifiedTokens', () => {
  it('checks a token that comes back once, until it expires', async () => {
    const checker = new CountingVerifier();
    const tokens = new VerifiedTokens(checker);
    for (let i = 0; i < 3; i++) assert.equal((await tokens.verify('a')).sub, 'a');
    assert.equal(checker.checks, 1);
    await assert.rejects(tokens.verify('bad'));
    await assert.rejects(tokens.verify('bad'));
    assert.equal(checker.checks, 3, 'a refused token is checked each time');
  });

  it('keeps at most maxEntries, the oldest going first', async () => {
    const checker = new CountingVerifier();
    const tokens = new VerifiedTokens(checker, 2);
    for (const t of ['a', 'b', 'c', 'c', 'b']) await tokens.verify(t);
    assert.equal(checker.checks, 3);
    await tokens.verify('a');
    assert.equal(checker.checks, 4, 'a was pushed out');
  });

  it('does not remember a token made for one use, nor let it push out those that come back', async () => {
    const checker = new CountingVerifier();
    const tokens = new VerifiedTokens(checker, 2);
    await tokens.verify('caller');
    for (let i = 0; i < 5; i++) await tokens.verify(`statement ${i}`, { once: true });
    await tokens.verify('statement 0', { once: true });
    assert.equal(checker.checks, 7, 'each single-use token checked each time it comes');
    await tokens.verify('caller');
    assert.equal(checker.checks, 7, "the caller's token is still remembered");
  });
});
