import { hash, verify, Algorithm } from '@node-rs/argon2';

/**
 * OWASP_ARGON2ID is OWASP's recommended minimum for argon2id (Password Storage
 * Cheat Sheet): 19 MiB of memory, 2 iterations, 1 degree of parallelism.
 */
export const OWASP_ARGON2ID = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Argon2Hasher hashes passwords with argon2id and checks them in constant time. */
export class Argon2Hasher {
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
