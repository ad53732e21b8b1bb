import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIT_CHAIN_GENESIS, auditChainHash, canonicalJson } from './audit-chain.js';

const event = {
  id: '0b3c3f52-3c1a-4a55-9a43-0d1e0a6c1f10',
  action: 'auth.login_succeeded',
  occurredAt: new Date('2026-11-30T10:00:00.123Z'),
  subgraph: 'user',
  actorId: null,
  targetType: 'User',
  targetId: 'x',
  ip: '198.51.100.7',
  userAgent: 'curl/8',
  traceId: null,
  metadata: { b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'é' } },
};

describe('audit chain', () => {
  it('writes JSON with keys sorted at every depth', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('hashes the same content the same way whatever its key order, and any change differently', () => {
    const first = auditChainHash(AUDIT_CHAIN_GENESIS, event);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(
      auditChainHash(AUDIT_CHAIN_GENESIS, { ...event, metadata: { a: { c: 'é', d: [1, { y: 2, z: 1 }] }, b: 1 } }),
      first,
    );
    assert.notEqual(auditChainHash(AUDIT_CHAIN_GENESIS, { ...event, action: 'auth.login_failed' }), first);
    assert.notEqual(auditChainHash(AUDIT_CHAIN_GENESIS, { ...event, metadata: { ...event.metadata, b: 2 } }), first);
    assert.notEqual(auditChainHash(first, event), first, 'the previous hash is part of the link');
  });
});
