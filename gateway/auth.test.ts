import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientIp, fromTrustedProxy, proxyTrust } from './auth.js';

/** request is the part of an incoming request the address is read from. */
const request = (socket: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress: socket }, connection: { remoteAddress: socket }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

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
    assert.equal(clientIp(request('198.51.100.9', '203.0.113.6'), trust), '198.51.100.9', 'a client that is not a proxy cannot claim another address');
    assert.equal(clientIp(request('10.0.0.1', 'not an address'), trust), '10.0.0.1');
    assert.equal(fromTrustedProxy(request('10.0.0.1'), trust), true);
    assert.equal(fromTrustedProxy(request('198.51.100.9'), trust), false);
  });

  it('refuses a trust list it cannot read', () => {
    assert.throws(() => proxyTrust(['not-a-cidr/99']));
  });
});
