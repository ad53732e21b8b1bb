import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from './errors.js';

/** LimitPolicy is how many attempts one key gets in a window. */
export interface LimitPolicy {
  points: number;
  windowSeconds: number;
}

/**
 * KeyedRateLimiter counts attempts per key in PostgreSQL (rate-limiter-flexible),
 * so every process of a service shares the counts. The table comes from a
 * migration, never from the limiter.
 */
export class KeyedRateLimiter {
  private readonly limiter: RateLimiterPostgres;

  /** pruneExpired makes this limiter delete expired counts (of every prefix) from time to time; one limiter per table is enough. */
  constructor(pool: Pool, prefix: string, policy: LimitPolicy, pruneExpired = false) {
    this.limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
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
      await this.limiter.consume(key, 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
      throw err;
    }
  }

  /** reset forgets key's attempts. */
  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}
