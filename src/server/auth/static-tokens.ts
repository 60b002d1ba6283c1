import { createHash, timingSafeEqual } from 'node:crypto';

export interface StaticToken {
  name: string;
  /** SHA-256 of the token, 64 lower-case hex digits (config `api.tokens[].sha256`). */
  sha256: string;
}

/**
 * The name of the configured token whose SHA-256 the presented token has, or undefined. Every entry
 * is compared in constant time and none is skipped, so timing tells nothing about which digest (or
 * how much of one) matched.
 */
export function matchStaticToken(tokens: readonly StaticToken[], presented: string): string | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let found: string | undefined;
  for (const token of tokens) {
    const expected = Buffer.from(token.sha256, 'hex');
    if (expected.length === digest.length && timingSafeEqual(expected, digest) && found === undefined) found = token.name;
  }
  return found;
}

/** The form tokens are configured in (`api.tokens[].sha256`). */
export const sha256Hex = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
