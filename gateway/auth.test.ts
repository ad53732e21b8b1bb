import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { before, describe, it } from 'node:test';
import type { AppError } from '../foundation/core/errors.js';
import { generatePrivateJwk, publicJwks, TokenSigner, TokenVerifier } from '../foundation/auth/tokens.js';
import { createLogger } from '../foundation/telemetry/logger.js';
import { Authenticator, clientIp, fromTrustedProxy, proxyTrust } from './auth.js';
import { SessionRevocations } from './session-revocations.js';

/** request is the part of an incoming request the address is read from. */
const request = (socket: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: socket },
    connection: { remoteAddress: socket },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

/** withHeaders is a request from 198.51.100.7 with the given headers. */
const withHeaders = (headers: Record<string, string>) =>
  ({
    socket: { remoteAddress: '198.51.100.7' },
    connection: { remoteAddress: '198.51.100.7' },
    headers,
  }) as unknown as IncomingMessage;

describe('clientIp', () => {
  it('trusts no proxy by default: a forged X-Forwarded-For is ignored', () => {
    const none = proxyTrust([]);
    assert.equal(clientIp(request('198.51.100.7', '203.0.113.1'), none), '198.51.100.7');
    assert.equal(clientIp(request('::ffff:198.51.100.7', '203.0.113.1, 10.0.0.1'), none), '198.51.100.7');
    assert.equal(fromTrustedProxy(request('198.51.100.7'), none), false);
  });

  it('behind trusted proxies, the first address that is not one of them, so a forged first entry is never read', () => {
    const trust = proxyTrust(['10.0.0.0/8', 'loopback']);
    // The client forged "1.2.3.4"; the proxy 10.0.0.2 appended what it saw (203.0.113.5), and 10.0.0.1 what it saw.
    assert.equal(clientIp(request('10.0.0.1', '1.2.3.4, 203.0.113.5, 10.0.0.2'), trust), '203.0.113.5');
    assert.equal(clientIp(request('127.0.0.1', '203.0.113.6'), trust), '203.0.113.6');
    assert.equal(
      clientIp(request('198.51.100.9', '203.0.113.6'), trust),
      '198.51.100.9',
      'a client that is not a proxy cannot claim another address',
    );
    assert.equal(clientIp(request('10.0.0.1', 'not an address'), trust), '10.0.0.1');
    assert.equal(fromTrustedProxy(request('10.0.0.1'), trust), true);
    assert.equal(fromTrustedProxy(request('198.51.100.9'), trust), false);
  });

  it('refuses a trust list it cannot read', () => {
    assert.throws(() => proxyTrust(['not-a-cidr/99']));
  });
});

describe('Authenticator', () => {
  const ISSUER = 'fixup-user';
  const AUDIENCE = 'fixup';
  let signer: TokenSigner;
  let revocations: SessionRevocations;
  let auth: Authenticator;
  const sign = (claims: Record<string, unknown>, subject = 'u-1', ttlSeconds = 60) =>
    signer.sign(claims, { issuer: ISSUER, audience: AUDIENCE, subject, ttlSeconds }).then((t) => t.token);
  /** feed gives the revocations one block of the session feed, as the user subgraph streams it. */
  const feed = (event: Record<string, unknown>) =>
    (revocations as unknown as { handle(block: string): void }).handle(
      `id: ${event.seq}\ndata: ${JSON.stringify(event)}`,
    );

  before(async () => {
    const keys = { keys: [await generatePrivateJwk()] };
    signer = await TokenSigner.create(keys);
    revocations = new SessionRevocations(
      'http://127.0.0.1:9/feed',
      async () => 'unused',
      60_000,
      createLogger({ service: 'test', level: 'silent' }),
    );
    auth = new Authenticator(
      new TokenVerifier({ jwks: publicJwks(keys) }, ISSUER, AUDIENCE),
      revocations,
      proxyTrust([]),
    );
  });

  it('makes an anonymous caller of a request without a token, with its address and user agent', async () => {
    const caller = await auth.callerOf(withHeaders({ 'user-agent': 'test-agent' }), 'r-1');
    assert.deepEqual(caller, { viewer: null, ip: '198.51.100.7', userAgent: 'test-agent', requestId: 'r-1' });
  });

  it("reads the viewer of a valid token, keeping only the contract's roles", async () => {
    const token = await sign({ roles: ['PROVIDER', 'ROOT', 7], ver: 1, sid: 's-1' });
    const caller = await auth.callerOf(withHeaders({ authorization: `Bearer ${token}` }), 'r-2');
    assert.deepEqual(caller.viewer, { id: 'u-1', roles: ['PROVIDER'], sessionId: 's-1' });
  });

  it('refuses a malformed header, a token signed by another key, and a token without a version', async () => {
    await assert.rejects(
      auth.callerOf(withHeaders({ authorization: 'Basic abc' }), 'r'),
      (e: AppError) => e.code === 'UNAUTHENTICATED',
    );
    const stranger = await TokenSigner.create({ keys: [await generatePrivateJwk()] });
    const forged = (
      await stranger.sign({ roles: [], ver: 1 }, { issuer: ISSUER, audience: AUDIENCE, subject: 'u-1', ttlSeconds: 60 })
    ).token;
    await assert.rejects(
      auth.callerOf(withHeaders({ authorization: `Bearer ${forged}` }), 'r'),
      (e: AppError) => e.code === 'UNAUTHENTICATED',
    );
    const unversioned = await sign({ roles: [] });
    await assert.rejects(
      auth.callerOf(withHeaders({ authorization: `Bearer ${unversioned}` }), 'r'),
      (e: AppError) => e.code === 'UNAUTHENTICATED',
    );
  });

  it('follows the session feed: a higher token version makes older tokens SESSION_STALE, an ended session UNAUTHENTICATED', async () => {
    const old = await sign({ roles: ['CUSTOMER'], ver: 1, sid: 's-2' }, 'u-2');
    const { tokenVersion, caller } = await auth.authenticate(withHeaders({ authorization: `Bearer ${old}` }), 'r');
    feed({ seq: 1, kind: 'user', userId: 'u-2', sessionId: null, tokenVersion: 2, at: new Date().toISOString() });
    assert.equal(auth.stillValid(caller, tokenVersion), false);
    await assert.rejects(
      auth.callerOf(withHeaders({ authorization: `Bearer ${old}` }), 'r'),
      (e: AppError) => e.code === 'SESSION_STALE',
    );
    const fresh = await sign({ roles: ['CUSTOMER'], ver: 2, sid: 's-2' }, 'u-2');
    assert.equal((await auth.callerOf(withHeaders({ authorization: `Bearer ${fresh}` }), 'r')).viewer?.id, 'u-2');
    feed({
      seq: 2,
      kind: 'session',
      userId: 'u-2',
      sessionId: 's-2',
      tokenVersion: null,
      at: new Date().toISOString(),
    });
    await assert.rejects(
      auth.callerOf(withHeaders({ authorization: `Bearer ${fresh}` }), 'r'),
      (e: AppError) => e.code === 'UNAUTHENTICATED',
    );
  });

  it('skips a feed event its contract does not allow', () => {
    feed({ seq: 3, kind: 'user', userId: 'u-3', tokenVersion: 'two' });
    assert.equal(revocations.stateOf('u-3', 1, null), 'live');
  });
});
