import type { Pool } from 'pg';
import { KeyedRateLimiter, type LimitPolicy } from '../../../foundation/rate-limit.js';
import type { AttemptLimiter, CredentialOperation } from '../business/accounts.js';

/**
 * PostgresAttemptLimiter counts credential attempts per operation, per IP and
 * per account, in the user database so that every process shares the counts.
 */
export class PostgresAttemptLimiter implements AttemptLimiter {
  private readonly perIp: KeyedRateLimiter;
  private readonly perAccount: KeyedRateLimiter;

  constructor(pool: Pool, ip: LimitPolicy, account: LimitPolicy) {
    this.perIp = new KeyedRateLimiter(pool, 'ip', ip, true);
    this.perAccount = new KeyedRateLimiter(pool, 'account', account);
  }

  async consume(operation: CredentialOperation, ip: string | null, account: string | null): Promise<void> {
    if (ip) await this.perIp.consume(`${operation}:${ip}`);
    if (account) await this.perAccount.consume(`${operation}:${account}`);
  }

  async forgive(operation: CredentialOperation, account: string): Promise<void> {
    await this.perAccount.reset(`${operation}:${account}`);
  }
}
