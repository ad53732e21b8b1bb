import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RateLimitedError } from '../foundation/core/errors.js';
import { databaseUrl, dropDatabases, provisionDatabases } from '../foundation/postgres/admin.js';
import { testDatabaseServer, uniqueName } from '../foundation/testkit/databases.js';
import { addressKey, GatewayRateLimits, type RateLimitPolicies, type RateLimitStore } from './rate-limits.js';

const POLICIES: RateLimitPolicies = {
  user: { perSecond: 2, burst: 2 },
  address: { perSecond: 1000, burst: 1000 },
  create: { perSecond: 1, burst: 1 },
  credentials: { perMinute: 1, burst: 1 },
  refusals: { perMinute: 1, burst: 2 },
};

/** spend consumes until refused and gives how many went through (at most limit tries). */
async function spend(
  limits: GatewayRateLimits,
  caller: Parameters<GatewayRateLimits['consume']>[0],
  limit = 50,
): Promise<{ allowed: number; error?: RateLimitedError }> {
  for (let i = 0; i < limit; i++) {
    try {
      await limits.consume(caller);
    } catch (err) {
      assert.ok(err instanceof RateLimitedError);
      return { allowed: i, error: err };
    }
  }
  return { allowed: limit };
}

/** sharedBudget checks that two gateways on one store share a user's budget. */
async function sharedBudget(store: RateLimitStore): Promise<void> {
  const a = await GatewayRateLimits.open(store, POLICIES);
  const b = await GatewayRateLimits.open(store, POLICIES);
  try {
    const caller = {
      ip: '198.51.100.9',
      viewer: { id: `user-${randomBytes(6).toString('hex')}`, roles: [], sessionId: null },
    };
    const first = await spend(a, caller);
    assert.ok(first.allowed >= 2 && first.allowed <= 6, `allowed ${first.allowed}`);
    assert.equal(first.error?.code, 'RATE_LIMITED');
    assert.ok(Number(first.error?.details.retryAfterSeconds) >= 1);
    // The second gateway sees the budget the first one spent.
    await assert.rejects(b.consume(caller), RateLimitedError);
  } finally {
    await a.stop();
    await b.stop();
  }
}

describe('gateway rate limits', () => {
  // Run alone, the file starts a PostgreSQL of its own, which must stop for the process to end.
  after(async () => (await testDatabaseServer()).stop());

  it('keys IPv4 addresses as they are and IPv6 addresses by their /64', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey(null), 'unknown');
  });

  it('allows a burst, then refuses with RATE_LIMITED and when to retry (memory store)', async () => {
    const limits = await GatewayRateLimits.open({ kind: 'memory' }, POLICIES);
    const caller = { ip: '198.51.100.1', viewer: { id: 'u1', roles: [], sessionId: null } };
    const spent = await spend(limits, caller);
    assert.ok(spent.allowed >= 4 && spent.allowed <= 6, `allowed ${spent.allowed}`);
    // Another user is not affected.
    await limits.consume({ ip: '198.51.100.1', viewer: { id: 'u2', roles: [], sessionId: null } });
    // Creating mutations have their own, tighter bucket; other mutations do not count there.
    const anonymous = { ip: '198.51.100.2', viewer: null };
    await limits.consumeCreate(anonymous, ['login']);
    await limits.consumeCreate(anonymous, ['register']);
    await limits.consumeCreate(anonymous, ['register']);
    await assert.rejects(limits.consumeCreate(anonymous, ['register']), RateLimitedError);
    // Credential mutations have a bucket per address, counted by the minute, whoever is signed in; other mutations do
    // not count there.
    await limits.consumeCredentials(anonymous, ['logout']);
    await limits.consumeCredentials(anonymous, ['logout']);
    await limits.consumeCredentials(anonymous, ['login']);
    await limits.consumeCredentials({ ip: '198.51.100.2' }, ['requestPasswordReset']);
    const refused = await limits
      .consumeCredentials({ ip: '198.51.100.2' }, ['signInWithLink'])
      .catch((err: unknown) => err);
    assert.ok(refused instanceof RateLimitedError);
    assert.ok(Number(refused.details.retryAfterSeconds) > 1, `retry after ${refused.details.retryAfterSeconds}`);
    await limits.consumeCredentials({ ip: '198.51.100.3' }, ['login']);
    // IPv6 by /64.
    await limits.consumeCredentials({ ip: '2001:db8:5:6::1' }, ['login']);
    await limits.consumeCredentials({ ip: '2001:db8:5:6::2' }, ['resetPassword']);
    await assert.rejects(limits.consumeCredentials({ ip: '2001:db8:5:6::3' }, ['register']), RateLimitedError);
    await limits.stop();
  });

  it('holds off a caller whose refused documents ran past the refusals bucket, and only that caller', async () => {
    const limits = await GatewayRateLimits.open({ kind: 'memory' }, POLICIES);
    const anonymous = { ip: '2001:db8:7:8::1', viewer: null };
    const user = { ip: '2001:db8:7:8::1', viewer: { id: 'u-refused', roles: [], sessionId: null } };
    assert.equal(limits.penalty(anonymous), 0);
    // The sustained point and the burst of two go through without a hold.
    for (let i = 0; i < 3; i++) {
      await limits.countRefusal({ ip: `2001:db8:7:8::${i + 2}`, viewer: null });
      assert.equal(limits.penalty(anonymous), 0, `after refusal ${i + 1}`);
    }
    await limits.countRefusal(anonymous);
    const held = limits.penalty(anonymous);
    // One point a minute: the hold lasts until the next point, about a minute, at least a second.
    assert.ok(held >= 1000 && held <= 60_000, `held ${held} ms`);
    // Another address of the same /64 is the same caller; another /64 and a signed-in user are not.
    assert.ok(limits.penalty({ ip: '2001:db8:7:8::99', viewer: null }) > 0);
    assert.equal(limits.penalty({ ip: '2001:db8:7:9::1', viewer: null }), 0);
    assert.equal(limits.penalty(user), 0);
    await limits.stop();
  });

  it('shares one budget between gateways through PostgreSQL', async () => {
    const { adminUrl } = await testDatabaseServer();
    const grant = { database: uniqueName('rl'), role: uniqueName('rl'), password: randomBytes(12).toString('hex') };
    await provisionDatabases(adminUrl, [grant], { lockDownServer: false });
    try {
      await sharedBudget({ kind: 'postgres', url: databaseUrl(adminUrl, grant) });
    } finally {
      await dropDatabases(adminUrl, [grant]);
    }
  });

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let redisReachable = false;
  it('shares one budget between gateways through Redis', async (t) => {
    const probe = new Redis(redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1000,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      redisReachable = (await probe.ping()) === 'PONG';
    } catch {
      redisReachable = false;
    } finally {
      probe.disconnect();
    }
    if (!redisReachable) {
      t.skip(`no Redis reachable at ${redisUrl} (set REDIS_URL): the Redis store is not tested here`);
      return;
    }
    await sharedBudget({ kind: 'redis', url: redisUrl });
  });
});
