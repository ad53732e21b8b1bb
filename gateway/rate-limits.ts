import { isIPv6 } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  type IRateLimiterStoreOptions,
} from 'rate-limiter-flexible';
import { RateLimitedError } from '../foundation/core/errors.js';
import type { Caller } from '../contracts/caller.js';

/** RatePolicy is a sustained rate with a burst on top: `perSecond` a second, and up to `burst` more in a moment. */
export interface RatePolicy {
  perSecond: number;
  burst: number;
}

/** RateLimitPolicies are the gateway's buckets. */
export interface RateLimitPolicies {
  /** user bounds every operation of one signed-in user (token subject). */
  user: RatePolicy;
  /** address bounds every operation from one client address (IPv6 by /64). */
  address: RatePolicy;
  /** create bounds the mutations that create things, per user or, signed out, per address. */
  create: RatePolicy;
  /** credentials bounds the credential mutations (CREDENTIAL_MUTATIONS) per client address, counted by the minute. */
  credentials: PerMinutePolicy;
  /**
   * refusals bounds the documents a caller may have refused (over a limit, not parsing, not valid, not registered),
   * per user or, signed out, per address, counted by the minute. Past it the caller is held off (`penalty`).
   */
  refusals: PerMinutePolicy;
}

/** PerMinutePolicy is a sustained rate a minute with a burst on top. */
export interface PerMinutePolicy {
  perMinute: number;
  burst: number;
}

/** HELD_OFF_MESSAGE is what a caller held off for its refused documents is told. */
export const HELD_OFF_MESSAGE = 'Too many refused documents: fix the operation, then retry after the delay given';

/** PENALTY_BOX_SIZE bounds how many held-off callers one gateway remembers (the oldest is forgotten first). */
const PENALTY_BOX_SIZE = 10_000;

/** CREATING_MUTATIONS are the root mutations that make new rows, which get the tighter `create` bucket. */
export const CREATING_MUTATIONS: ReadonlySet<string> = new Set([
  'sendMessage',
  'submitOffer',
  'createOrder',
  'register',
  'openConversation',
]);

/**
 * CREDENTIAL_MUTATIONS are the root mutations that check or mail credentials. They get a per-address bucket
 * of their own, so that an address flooding them is refused here, before any subgraph or database work; the
 * user subgraph's per-account rules still apply to what passes.
 */
export const CREDENTIAL_MUTATIONS: ReadonlySet<string> = new Set([
  'login',
  'register',
  'requestPasswordReset',
  'resetPassword',
  'requestSignInLink',
  'signInWithLink',
]);

/** RateLimitStore says where counts live: one process's memory, or PostgreSQL or Redis shared by every gateway. */
export type RateLimitStore = { kind: 'memory' } | { kind: 'postgres'; url: string } | { kind: 'redis'; url: string };

/**
 * addressKey is the bucket key of a client address: an IPv4 address as it is, an IPv6 address by its /64, since one
 * host holds a whole /64.
 */
export function addressKey(ip: string | null): string {
  if (!ip) return 'unknown';
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is in the low 64 bits, which the key drops anyway.
  const groups = ip.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

/** callerKey keys a caller by user when signed in, else by address (the create and refusals buckets). */
function callerKey(caller: Pick<Caller, 'ip' | 'viewer'>): string {
  return caller.viewer ? `u:${caller.viewer.id}` : `a:${addressKey(caller.ip)}`;
}

/** limited turns rate-limiter-flexible's refusal into the contract's RATE_LIMITED. */
async function limited(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    throw err;
  }
}

/**
 * GatewayRateLimits counts every operation against its caller's buckets:
 * per user when signed in, always per address, and the `create` bucket for
 * mutations that create things. Each bucket is a sustained rate with a
 * burst (rate-limiter-flexible's BurstyRateLimiter: the burst bucket is
 * drawn only once the sustained one is empty).
 */
export class GatewayRateLimits {
  private readonly user: BurstyRateLimiter;
  private readonly address: BurstyRateLimiter;
  private readonly create: BurstyRateLimiter;
  private readonly credentials: BurstyRateLimiter;
  private readonly refusals: BurstyRateLimiter;
  /** penalized holds, by refusal key, until when (ms since the epoch) a caller whose refusals ran out is held off. */
  private readonly penalized = new Map<string, number>();

  private constructor(
    make: (prefix: string, points: number, duration: number) => RateLimiterAbstract,
    policies: RateLimitPolicies,
    private readonly close: () => Promise<void>,
  ) {
    // The sustained bucket of a per-minute policy refills one point every 60/perMinute seconds (or perMinute/60 points
    // a second), not perMinute points at the top of each minute, so that a key spends at most `burst` plus a trickle.
    const perMinute = (name: string, p: PerMinutePolicy) =>
      new BurstyRateLimiter(
        (p.perMinute >= 60
          ? make(`gw_${name}`, Math.round(p.perMinute / 60), 1)
          : make(`gw_${name}`, 1, Math.round(60 / p.perMinute))) as never,
        make(`gw_${name}_burst`, p.burst, Math.max(1, Math.ceil((p.burst / p.perMinute) * 60))) as never,
      );
    const bursty = (name: string, p: RatePolicy) =>
      new BurstyRateLimiter(
        make(`gw_${name}`, p.perSecond, 1) as never,
        make(`gw_${name}_burst`, p.burst, Math.max(1, Math.ceil(p.burst / p.perSecond))) as never,
      );
    this.user = bursty('user', policies.user);
    this.address = bursty('addr', policies.address);
    this.create = bursty('create', policies.create);
    this.credentials = perMinute('cred', policies.credentials);
    this.refusals = perMinute('refusals', policies.refusals);
  }

  /** open connects to the store and makes the limiter. */
  static async open(store: RateLimitStore, policies: RateLimitPolicies): Promise<GatewayRateLimits> {
    if (store.kind === 'memory') {
      return new GatewayRateLimits(
        (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration }),
        policies,
        async () => {},
      );
    }
    if (store.kind === 'redis') {
      const client = new Redis(store.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
      await client.connect();
      return new GatewayRateLimits(
        (keyPrefix, points, duration) =>
          new RateLimiterRedis({ storeClient: client, keyPrefix, points, duration, rejectIfRedisNotReady: true }),
        policies,
        async () => {
          await client.quit().catch(() => client.disconnect());
        },
      );
    }
    const pool = new pg.Pool({ connectionString: store.url, max: 4 });
    const base = { storeClient: pool, storeType: 'pool', tableName: 'gateway_rate_limits' };
    try {
      // The limiter creates its table when told it is missing; one does so first, so that the others do not race it.
      await new Promise<void>((resolve, reject) => {
        new RateLimiterPostgres({ ...base, keyPrefix: 'gw_setup', points: 1, duration: 1 }, (err?: Error) =>
          err ? reject(err) : resolve(),
        );
      });
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new GatewayRateLimits(
      (keyPrefix, points, duration) =>
        new RateLimiterPostgres({
          ...base,
          tableCreated: true,
          keyPrefix,
          points,
          duration,
          ...(keyPrefix === 'gw_user' ? { clearExpiredByTimeout: true } : {}),
        } as IRateLimiterStoreOptions),
      policies,
      () => pool.end(),
    );
  }

  /**
   * consume counts one operation or socket message against the caller's address and user buckets, and throws
   * RateLimitedError past either.
   */
  async consume(caller: Pick<Caller, 'ip' | 'viewer'>): Promise<void> {
    await limited(async () => {
      await this.address.consume(addressKey(caller.ip), 1);
      if (caller.viewer) await this.user.consume(`u:${caller.viewer.id}`, 1);
    });
  }

  /** consumeCreate counts a mutation against the create bucket when one of its root fields creates something. */
  async consumeCreate(caller: Pick<Caller, 'ip' | 'viewer'>, rootMutationFields: readonly string[]): Promise<void> {
    if (!rootMutationFields.some((f) => CREATING_MUTATIONS.has(f))) return;
    await limited(() => this.create.consume(callerKey(caller), 1));
  }

  /**
   * consumeCredentials counts a mutation against its address's credentials bucket when one of its root fields is a
   * credential mutation.
   */
  async consumeCredentials(caller: Pick<Caller, 'ip'>, rootMutationFields: readonly string[]): Promise<void> {
    if (!rootMutationFields.some((f) => CREDENTIAL_MUTATIONS.has(f))) return;
    await limited(() => this.credentials.consume(addressKey(caller.ip), 1));
  }

  /**
   * penalty gives how long (ms) the caller is still held off because its refused documents ran past the refusals
   * bucket; 0 when it is not. It asks no store: each gateway remembers the callers it found past the bucket.
   */
  penalty(caller: Pick<Caller, 'ip' | 'viewer'>): number {
    if (this.penalized.size === 0) return 0;
    const key = callerKey(caller);
    const until = this.penalized.get(key);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.penalized.delete(key);
    return 0;
  }

  /**
   * countRefusal counts one refused document against the caller's refusals bucket; past it the caller is held off
   * until the bucket has a point again.
   */
  async countRefusal(caller: Pick<Caller, 'ip' | 'viewer'>): Promise<void> {
    const key = callerKey(caller);
    try {
      await this.refusals.consume(key, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      this.penalized.delete(key);
      if (this.penalized.size >= PENALTY_BOX_SIZE) this.penalized.delete(this.penalized.keys().next().value!);
      this.penalized.set(key, Date.now() + Math.max(1000, err.msBeforeNext));
    }
  }

  /** stop closes the store's connections. */
  async stop(): Promise<void> {
    await this.close();
  }
}
