import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import {
  InvalidTokenError,
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

/** jwksServer serves a key set, or hangs (a busy, stopped or unreachable user subgraph), counting the fetches. */
async function jwksServer(initial: PrivateKeySet) {
  const state = { served: publicJwks(initial), hanging: false, fetches: 0 };
  const server = createServer((_req, res) => {
    state.fetches++;
    if (state.hanging) return;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(state.served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, close };
}

const tokenOf = async (set: PrivateKeySet) =>
  (await (await TokenSigner.create(set)).sign({}, { issuer: 'issuer', audience: 'audience', ttlSeconds: 60 })).token;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TokenVerifier with a JWKS endpoint', () => {
  it('keeps verifying with the keys it holds while the endpoint hangs past their age, and fetches a new key at once', async () => {
    const first = { keys: [await generatePrivateJwk()] };
    const second = { keys: [await generatePrivateJwk()] };
    const jwks = await jwksServer(first);
    try {
      const verifier = new TokenVerifier({ jwksUrl: jwks.url }, 'issuer', 'audience', { refreshMs: 100 });
      assert.equal((await verifier.verify(await tokenOf(first))).iss, 'issuer');
      jwks.state.hanging = true;
      await sleep(150);
      const started = performance.now();
      for (let i = 0; i < 3; i++) assert.equal((await verifier.verify(await tokenOf(first))).iss, 'issuer');
      assert.ok(performance.now() - started < 1000, 'no verification waited for the hanging endpoint');
      for (const deadline = Date.now() + 2000; jwks.state.fetches < 2 && Date.now() < deadline;) await sleep(10);
      assert.equal(jwks.state.fetches, 2, 'one refetch in the background, not one per verification');
      await sleep(3_100); // the hanging refetch timed out: the held keys still answer
      assert.equal((await verifier.verify(await tokenOf(first))).iss, 'issuer');
      // The endpoint answers again, with a rotated key: a token of the new key is fetched for at once (past the
      // 5-second cooldown), and the removed key no longer verifies.
      jwks.state.hanging = false;
      jwks.state.served = publicJwks(second);
      await sleep(2_000);
      assert.equal((await verifier.verify(await tokenOf(second))).iss, 'issuer');
      await assert.rejects(verifier.verify(await tokenOf(first)), InvalidTokenError);
    } finally {
      jwks.close();
    }
  });

  it('trusts no keys older than maxStaleMs: verifications then wait for a fetch, and fail with it', async () => {
    const set = { keys: [await generatePrivateJwk()] };
    const jwks = await jwksServer(set);
    try {
      const verifier = new TokenVerifier({ jwksUrl: jwks.url }, 'issuer', 'audience', {
        refreshMs: 100,
        maxStaleMs: 300,
      });
      assert.equal((await verifier.verify(await tokenOf(set))).iss, 'issuer');
      jwks.state.hanging = true;
      await sleep(400);
      await assert.rejects(verifier.verify(await tokenOf(set)), InvalidTokenError);
    } finally {
      jwks.close();
    }
  });
});
