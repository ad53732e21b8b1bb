import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import {
  TokenSigner,
  TokenVerifier,
  VerifiedTokens,
  generatePrivateJwk,
  publicJwks,
  type PrivateKeySet,
} from './tokens.js';

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

describe('TokenVerifier with a JWKS endpoint', () => {
  it('keeps verifying with the keys it holds while the endpoint hangs past their age, and fetches a new key at once', async () => {
    const first = { keys: [await generatePrivateJwk()] };
    const second = { keys: [await generatePrivateJwk()] };
    let served = publicJwks(first);
    let hanging = false;
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      if (hanging) return; // never answers: a busy, stopped or unreachable user subgraph
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      const verifier = new TokenVerifier({ jwksUrl: url }, 'issuer', 'audience', { refreshMs: 100 });
      const token = async (set: PrivateKeySet) =>
        (await (await TokenSigner.create(set)).sign({}, { issuer: 'issuer', audience: 'audience', ttlSeconds: 60 }))
          .token;
      assert.equal((await verifier.verify(await token(first))).iss, 'issuer');
      hanging = true;
      await new Promise((r) => setTimeout(r, 150));
      const started = performance.now();
      for (let i = 0; i < 3; i++) assert.equal((await verifier.verify(await token(first))).iss, 'issuer');
      assert.ok(performance.now() - started < 1000, 'no verification waited for the hanging endpoint');
      assert.equal(fetches, 2, 'one refetch in the background, not one per verification');
      // The endpoint answers again, with a rotated key: a token of the new key is fetched for at once.
      hanging = false;
      served = publicJwks(second);
      await new Promise((r) => setTimeout(r, 3_100)); // the hanging refetch's timeout and the 5-second cooldown
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal((await verifier.verify(await token(second))).iss, 'issuer');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
