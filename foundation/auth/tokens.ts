import { newId } from '../core/ids.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

/** TOKEN_ALGORITHM is the only signature algorithm Fixup issues or accepts (pinned on verification). */
export const TOKEN_ALGORITHM = 'EdDSA';

/**
 * PrivateKeySet is a service's signing keys: the first active one signs, all
 * are published so that older tokens still verify and newer ones already do.
 */
export interface PrivateKeySet {
  keys: JWK[];
}

/** KeySetSource says where a key set comes from: JSON given in the environment, or a file. */
export interface KeySetSource {
  /** json is a private JWK set as JSON; it wins over file. */
  json?: string;
  file: string;
  /** createIfMissing makes a fresh key set in file when there is none (development only). */
  createIfMissing: boolean;
}

/** generatePrivateJwk makes an Ed25519 private JWK with a kid (its thumbprint). */
export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = TOKEN_ALGORITHM;
  jwk.use = 'sig';
  return jwk;
}

/**
 * loadKeySet reads a private key set, or in development makes one on first use
 * into the ignored `.data/` folder (readable by the owner only).
 */
export async function loadKeySet(source: KeySetSource): Promise<PrivateKeySet> {
  let text = source.json;
  if (!text) {
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !source.createIfMissing) {
        throw new Error(`no signing keys: ${source.file} is missing (${(err as Error).message})`);
      }
      const set = { keys: [await generatePrivateJwk()] };
      mkdirSync(dirname(source.file), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(source.file, JSON.stringify(set, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      } catch (writeErr) {
        // Another process made it first: use theirs.
        if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
      }
      text = readFileSync(source.file, 'utf8');
    }
  }
  const set = JSON.parse(text) as PrivateKeySet;
  if (!Array.isArray(set.keys) || set.keys.length === 0) throw new Error('the signing key set has no keys');
  for (const key of set.keys) {
    if (key.kty !== 'OKP' || key.crv !== 'Ed25519' || !key.d || !key.kid) {
      throw new Error(`signing key ${key.kid ?? '(no kid)'} is not a private Ed25519 JWK with a kid`);
    }
  }
  return set;
}

/** publicJwks is the JWKS to publish for a private key set: public parts only. */
export function publicJwks(set: PrivateKeySet): { keys: JWK[] } {
  return {
    keys: set.keys.map(({ kty, crv, x, kid }) => ({ kty, crv, x, kid, alg: TOKEN_ALGORITHM, use: 'sig' })),
  };
}

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * KEY_ACTIVE_FROM and KEY_RETIRE_AT are Fixup's own members of a private JWK
 * (seconds since the epoch), written by `fixup keys rotate`: a key signs only
 * from KEY_ACTIVE_FROM on (it is published before, so every verifier knows it
 * first), and a key past KEY_RETIRE_AT has no unexpired token left.
 */
export const KEY_ACTIVE_FROM = 'fixup_active_from';
/** KEY_RETIRE_AT: see KEY_ACTIVE_FROM. */
export const KEY_RETIRE_AT = 'fixup_retire_at';

/** signingJwk is the key of a set that signs at `nowSeconds`: the first one already active (the last as a fallback). */
export function signingJwk(set: PrivateKeySet, nowSeconds: number): JWK {
  const active = set.keys.find((k) => {
    const from = (k as Record<string, unknown>)[KEY_ACTIVE_FROM];
    return typeof from !== 'number' || from <= nowSeconds;
  });
  return active ?? set.keys[set.keys.length - 1]!;
}

/**
 * TokenSigner signs JWTs with the set's active key; `replace` swaps in a
 * reloaded set (a rotation) without a restart.
 */
export class TokenSigner {
  private readonly imported = new Map<string, SigningKey>();

  private constructor(private set: PrivateKeySet) {}

  /** create imports the set's keys. */
  static async create(set: PrivateKeySet): Promise<TokenSigner> {
    const signer = new TokenSigner(set);
    await signer.replace(set);
    return signer;
  }

  /** replace makes a new key set the one that signs from now on. */
  async replace(set: PrivateKeySet): Promise<void> {
    for (const jwk of set.keys) {
      if (!this.imported.has(jwk.kid!)) this.imported.set(jwk.kid!, await importJWK(jwk, TOKEN_ALGORITHM));
    }
    this.set = set;
  }

  /** sign makes a JWT with the given claims, issuer, audience and lifetime; it adds iat, exp and jti. */
  async sign(
    claims: JWTPayload,
    options: { issuer: string; audience: string | string[]; subject?: string; ttlSeconds: number },
  ): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + options.ttlSeconds;
    const kid = signingJwk(this.set, now).kid!;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(newId());
    if (options.subject) jwt.setSubject(options.subject);
    return { token: await jwt.sign(this.imported.get(kid)!), expiresAt: new Date(exp * 1000) };
  }
}

/**
 * watchKeySet reloads a key set from its file every intervalMs when the file
 * changed, and hands the new set to onChange (a rotation takes effect without
 * a restart). A set given as JSON in the environment never changes. A file
 * that fails to load keeps the old set and is reported to onError.
 */
export function watchKeySet(
  source: KeySetSource,
  intervalMs: number,
  onChange: (set: PrivateKeySet) => Promise<void> | void,
  onError: (err: unknown) => void,
): () => void {
  if (source.json) return () => {};
  const stamp = () => {
    try {
      const st = statSync(source.file);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'missing';
    }
  };
  let last = stamp();
  let busy = false;
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last || busy || now === 'missing') return;
    busy = true;
    loadKeySet({ ...source, createIfMissing: false })
      .then(async (set) => {
        await onChange(set);
        last = now;
      })
      .catch(onError)
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** InvalidTokenError says a token failed verification; reason is for logs, never for clients. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
  }
}

/**
 * TokenVerifier checks JWTs against a JWKS (fetched and cached, refetched on an
 * unknown kid) or a local key set, with the algorithm, issuer and audience pinned.
 */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  /**
   * options.refreshMs is how old the keys of a `jwksUrl` may grow before they are fetched again in the background (10
   * minutes); options.maxStaleMs, how old they may grow before verifications wait for a fetch, failing with it (1
   * hour).
   */
  constructor(
    source: { jwksUrl: string } | { jwks: { keys: JWK[] } },
    private readonly issuer: string,
    private readonly audience: string,
    options: { refreshMs?: number; maxStaleMs?: number } = {},
  ) {
    this.keys =
      'jwksUrl' in source
        ? heldRemoteKeys(new URL(source.jwksUrl), options.refreshMs ?? 10 * 60_000, options.maxStaleMs ?? 3_600_000)
        : createLocalJWKSet(source.jwks);
  }

  /** verify returns the token's claims or throws InvalidTokenError. */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: ['exp', 'iat', 'jti'],
        clockTolerance: 5,
      });
      return payload;
    } catch (err) {
      throw new InvalidTokenError((err as { code?: string }).code ?? (err as Error).message);
    }
  }
}

/**
 * heldRemoteKeys is a JWKS endpoint's keys as a verifier asks for them: fetched at the first verification, then held,
 * and fetched again in the background once older than refreshMs (again 30 s after a failed try), the held keys
 * answering meanwhile. So a slow or failing endpoint (the user subgraph busy or restarting) delays no request and fails
 * none whose key is known: with jose's own expiry every verification waited for the refetch once the keys were old,
 * and failed with it (a burst of UNAUTHENTICATED when its 3 s timeout passed under load). Keys last fetched more than
 * maxStaleMs ago are not trusted: verifications wait for a fetch again and fail with it, so a key removed from the set
 * (a compromised one) stops verifying within that bound even while the endpoint is unreachable. A key the held set
 * does not name (a rotation) is fetched at once, at most every 5 s.
 */
function heldRemoteKeys(url: URL, refreshMs: number, maxStaleMs: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { cooldownDuration: 5_000, cacheMaxAge: Infinity, timeoutDuration: 3_000 });
  let loadedAt = -Infinity;
  let triedAt = -Infinity;
  const load = () =>
    remote.reload().then(() => {
      loadedAt = performance.now();
    });
  return async (header, token) => {
    const now = performance.now();
    if (now - loadedAt > maxStaleMs) await load();
    else if (now - loadedAt > refreshMs && now - triedAt > 30_000 && !remote.reloading) {
      triedAt = now;
      load().catch(() => {
        // The held keys stay, until maxStaleMs.
      });
    }
    return remote(header, token);
  };
}

/** bearerToken reads the token of an `Authorization: Bearer <token>` header; null when absent. */
export function bearerToken(header: string | undefined): string | null | 'malformed' {
  if (header === undefined || header === '') return null;
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(header.trim());
  return match ? match[1]! : 'malformed';
}

/**
 * VerifiedTokens remembers the claims of tokens whose signature was checked,
 * until they expire, so that a token presented again is not checked again (an
 * Ed25519 check per request is a large share of a request's CPU). At most
 * maxEntries are kept; the oldest go first.
 */
export class VerifiedTokens {
  /**
   * verified is keyed by the token's SHA-256 (44 characters), not the token: a key of the token itself held its whole
   * text (about 500 bytes) and, taken from an Authorization header, the header it was sliced from, for as long as the
   * entry stayed: about half a kilobyte more per subscriber at 10,000 subscriptions (docs/performance.md, lever 46).
   */
  private readonly verified = new Map<string, { claims: JWTPayload; expiresAt: number }>();

  constructor(
    private readonly verifier: Pick<TokenVerifier, 'verify'>,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * verify gives a token's claims, checking its signature only when it was not checked before (or has expired since).
   * A token made for one use (a subscription's statement) is checked without being remembered: kept, thousands of
   * them would hold memory for nothing and push out the tokens that do come back.
   */
  async verify(token: string, options: { once?: boolean } = {}): Promise<JWTPayload> {
    if (options.once) return this.verifier.verify(token);
    const key = createHash('sha256').update(token).digest('base64');
    const found = this.verified.get(key);
    if (found && found.expiresAt > Date.now()) return found.claims;
    if (found) this.verified.delete(key);
    const claims = await this.verifier.verify(token);
    if (typeof claims.exp === 'number') {
      if (this.verified.size >= this.maxEntries) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, { claims, expiresAt: claims.exp * 1000 });
    }
    return claims;
  }
}
