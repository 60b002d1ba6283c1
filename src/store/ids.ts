import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower-case: no i, l, o, u

/**
 * Build ids sort by creation time (ULID layout: 48-bit ms time + 80 random bits) so listings and
 * logs read in order, and they are short enough to type: `b-01jd…`.
 */
export function newBuildId(time = Date.now()): string {
  let ts = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    ts = ALPHABET[t % 32] + ts;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    const bit = i * 5;
    const byte = bit >> 3;
    const value = (((bytes[byte] ?? 0) << 8) | (bytes[byte + 1] ?? 0)) >> (11 - (bit & 7));
    rand += ALPHABET[value & 31];
  }
  return `b-${ts}${rand}`;
}
