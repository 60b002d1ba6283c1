import type { TrustedKey } from './keys.js';

/**
 * Verification results by (digest, key set): the promote gate asks again for every promotion of the
 * same image, and a verification costs registry round trips plus one ECDSA check per signature.
 *
 * Only positive results are kept. A digest is immutable and so is a signature that verified, but an
 * unsigned digest is usually about to be signed (the `sign` stage runs right before `promote`): a
 * cached "no" would refuse it until the entry expired. Entries expire after `ttlMs` so that a signature
 * deleted from the registry stops counting, and the oldest are dropped beyond `maxEntries`.
 */

export interface VerificationCacheOptions {
  /** How long a positive result is reused, in ms. Default 10 minutes. */
  ttlMs?: number;
  /** Most results kept; the oldest go first. Default 1000. */
  maxEntries?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  expires: number;
}

export class VerificationCache<T = unknown> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: VerificationCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The key: the digest, where its signatures are read from, which identities count, and the set of
   * key fingerprints (sorted: the same keys in another order are the same trust decision).
   */
  static key(digest: string, signatureRepository: string, identities: readonly string[], keys: readonly TrustedKey[]): string {
    const fingerprints = [...new Set(keys.map((k) => k.fingerprint))].sort();
    return [digest, signatureRepository, [...identities].sort().join(','), fingerprints.join(',')].join('|');
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
