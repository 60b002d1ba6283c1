/**
 * Masks secret values in text that users see (build logs, stored and streamed, and error messages), as
 * GitHub Actions does: every occurrence becomes `***`. A build step may print a secret it was given
 * (`cat /run/secrets/x`), plainly or encoded, so each value is masked in the forms a shell prints it in
 * without effort: as it is, base64 (padded, unpadded, URL-safe, and the 76-column lines `base64` wraps
 * at) and URL-encoded. A multi-line value is masked line by line too, since logs are stored per line.
 *
 * Values shorter than MIN_SECRET_LENGTH are not masked: `1` or `yes` would turn every log into
 * asterisks while hiding nothing an attacker could not guess.
 */
export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

/** Where `base64` (coreutils, busybox) wraps its output. */
const BASE64_COLUMNS = 76;

function forms(value: string): string[] {
  const out = [value];
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  out.push(b64, b64.replace(/=+$/, ''), Buffer.from(value, 'utf8').toString('base64url'));
  for (let i = 0; i < b64.length && b64.length > BASE64_COLUMNS; i += BASE64_COLUMNS) out.push(b64.slice(i, i + BASE64_COLUMNS));
  out.push(encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'));
  return out;
}

export class SecretMasker {
  private readonly pattern: RegExp | undefined;
  /** How many distinct strings are masked (for a log line saying so, never which). */
  readonly size: number;

  constructor(values: Iterable<string | undefined>) {
    const all = new Set<string>();
    for (const value of values) {
      if (!value) continue;
      const parts = [value, ...value.split(/\r?\n/).map((l) => l.trim())];
      for (const part of parts) for (const form of forms(part)) if (form.length >= MIN_SECRET_LENGTH) all.add(form);
    }
    this.size = all.size;
    // Longest first, so a value is masked whole rather than the shorter form it contains.
    const sorted = [...all].sort((a, b) => b.length - a.length);
    this.pattern = sorted.length ? new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }
}
