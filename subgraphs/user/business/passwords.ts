import { hash, verify, Algorithm } from '@node-rs/argon2';
import { RateLimitedError } from '../../../foundation/core/errors.js';

/**
 * OWASP_ARGON2ID is OWASP's recommended minimum for argon2id (Password Storage
 * Cheat Sheet): 19 MiB of memory, 2 iterations, 1 degree of parallelism.
 */
export const OWASP_ARGON2ID = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** Argon2Hasher hashes passwords with argon2id and checks them in constant time. */
export class Argon2Hasher implements Hasher {
  hash(password: string): Promise<string> {
    return hash(password, OWASP_ARGON2ID);
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }
}

/** Hasher is what BoundedHasher wraps: hashing and checking passwords. */
export interface Hasher {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<boolean>;
}

/** HashLimits bound password hashing in one process. */
export interface HashLimits {
  /** concurrency is how many hashes run at once (about one per core). */
  concurrency: number;
  /** queue is how many more may wait; past it a hash is refused at once. */
  queue: number;
}

/**
 * BoundedHasher caps the password hashes a process runs at once, with a short
 * queue, and refuses beyond it with RATE_LIMITED: each argon2id hash costs
 * 19 MiB and tens of milliseconds of a core, so a flood of logins must not
 * starve every other request of CPU and memory.
 */
export class BoundedHasher implements Hasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly inner: Hasher,
    private readonly limits: HashLimits,
  ) {}

  /** full tells whether a hash asked for now would be refused, so a caller can refuse before doing any other work. */
  get full(): boolean {
    return this.running >= this.limits.concurrency && this.waiting.length >= this.limits.queue;
  }

  hash(password: string): Promise<string> {
    return this.run(() => this.inner.hash(password));
  }

  verify(stored: string, password: string): Promise<boolean> {
    return this.run(() => this.inner.verify(stored, password));
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queue) throw new RateLimitedError(1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot jump the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
