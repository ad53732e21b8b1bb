import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { DataSource } from 'typeorm';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../../../foundation/core/errors.js';

/** LimitPolicy is how many attempts one key gets in a window. */
export interface LimitPolicy {
  points: number;
  windowSeconds: number;
}

/**
 * addressKey is the unit an address is limited by: an IPv4 address as it is,
 * an IPv6 address by its /64 network (one customer's allocation, where an
 * attacker holds every address at once). IPv4-mapped IPv6 counts as IPv4.
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  let parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}

/**
 * storedKey is how a key is stored: its SHA-256, so that keys built from user
 * input (an email of any length) fit the table's column and reveal nothing.
 */
function storedKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/**
 * throughTypeOrm is the one method rate-limiter-flexible calls on its store
 * client, answered through the subgraph's DataSource (a QueryRunner per
 * statement), so the limits share its pool without reaching into the driver.
 */
function throughTypeOrm(dataSource: DataSource) {
  return {
    async query(q: { text: string; values?: unknown[] }): Promise<{ rows: unknown[]; rowCount: number }> {
      const runner = dataSource.createQueryRunner();
      try {
        const result = await runner.query(q.text, q.values, true);
        return { rows: result.records ?? [], rowCount: result.affected ?? 0 };
      } finally {
        await runner.release();
      }
    },
  };
}

/**
 * KeyedRateLimiter counts attempts per key in PostgreSQL (rate-limiter-flexible),
 * so every process of a service shares the counts. The table comes from a
 * migration, never from the limiter. Keys are stored hashed.
 */
export class KeyedRateLimiter {
  private readonly limiter: RateLimiterPostgres;

  /**
   * pruneExpired makes this limiter delete expired counts (of every prefix) from time to time; one limiter per table is
   * enough.
   */
  constructor(
    dataSource: DataSource,
    prefix: string,
    private readonly policy: LimitPolicy,
    pruneExpired = false,
  ) {
    this.limiter = new RateLimiterPostgres({
      storeClient: throughTypeOrm(dataSource),
      storeType: 'client',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: prefix,
      points: policy.points,
      duration: policy.windowSeconds,
      clearExpiredByTimeout: pruneExpired,
    });
  }

  /** consume counts one attempt for key and throws RateLimitedError past the limit. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(storedKey(key), 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
      throw err;
    }
  }

  /**
   * refund gives back one attempt counted by consume (an attempt that turned out not to count, such as a successful
   * login).
   */
  async refund(key: string): Promise<void> {
    await this.limiter.reward(storedKey(key), 1);
  }

  /** charge counts one attempt without refusing anything. */
  async charge(key: string): Promise<void> {
    await this.limiter.penalty(storedKey(key), 1);
  }

  /** isOver tells whether key has used up its attempts in the current window. */
  async isOver(key: string): Promise<boolean> {
    const res = await this.limiter.get(storedKey(key));
    return !!res && res.consumedPoints >= this.policy.points;
  }

  /** reset forgets key's attempts. */
  async reset(key: string): Promise<void> {
    await this.limiter.delete(storedKey(key));
  }
}
