import type { DataSource } from 'typeorm';
import { addressKey, KeyedRateLimiter, type LimitPolicy } from './rate-limit.js';
import type { AttemptLimiter, CredentialOperation, LoginAttempt } from '../business/accounts.js';

/** AttemptLimits are the policies of the credential limits. */
export interface AttemptLimits {
  /** perAddress bounds each credential operation from one address (an IPv6 /64), across accounts. */
  perAddress: LimitPolicy;
  /** perAccount bounds the other credential operations on one account (reset mails, sign-ups, password changes). */
  perAccount: LimitPolicy;
  /** perAccountAddress bounds failed logins on one account from one address. */
  perAccountAddress: LimitPolicy;
  /** accountCeiling is the failed logins on one account from everywhere past which every login on it is slowed. */
  accountCeiling: LimitPolicy;
}

/**
 * PostgresAttemptLimiter counts credential attempts in the user database so
 * that every process shares the counts. Logins count failures only, keyed by
 * account and address: a stranger's wrong passwords lock only that stranger
 * out, and past the account-wide ceiling every login on the account is slowed,
 * never refused, so its owner still gets in from their own address.
 */
export class PostgresAttemptLimiter implements AttemptLimiter {
  private readonly perAddress: KeyedRateLimiter;
  private readonly perAccount: KeyedRateLimiter;
  private readonly perAccountAddress: KeyedRateLimiter;
  private readonly accountCeiling: KeyedRateLimiter;

  constructor(dataSource: DataSource, limits: AttemptLimits) {
    this.perAddress = new KeyedRateLimiter(dataSource, 'ip', limits.perAddress, true);
    this.perAccount = new KeyedRateLimiter(dataSource, 'account', limits.perAccount);
    this.perAccountAddress = new KeyedRateLimiter(dataSource, 'account-ip', limits.perAccountAddress);
    this.accountCeiling = new KeyedRateLimiter(dataSource, 'account-ceiling', limits.accountCeiling);
  }

  async consume(operation: CredentialOperation, ip: string | null, account: string | null): Promise<void> {
    if (ip) await this.perAddress.consume(`${operation}:${addressKey(ip)}`);
    if (account) await this.perAccount.consume(`${operation}:${account}`);
  }

  async beginLogin(ip: string | null, account: string): Promise<LoginAttempt> {
    const address = ip ? addressKey(ip) : '-';
    const pair = `login:${account}:${address}`;
    // Counted before the password is checked, so that parallel attempts cannot all slip under the limit; a success
    // gives it back.
    if (ip) await this.perAddress.consume(`login:${address}`);
    try {
      await this.perAccountAddress.consume(pair);
    } catch (err) {
      if (ip) await this.perAddress.refund(`login:${address}`);
      throw err;
    }
    const slowed = await this.accountCeiling.isOver(`login:${account}`);
    return {
      slowed,
      // Past the ceiling the count changes nothing, and every attacker would queue on that one row's lock.
      failed: async () => {
        if (!slowed) await this.accountCeiling.charge(`login:${account}`);
      },
      succeeded: async () => {
        await this.perAccountAddress.reset(pair);
        if (ip) await this.perAddress.refund(`login:${address}`);
      },
    };
  }
}
