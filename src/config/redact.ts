import { SECRET_PATHS, URL_PATHS_WITH_CREDENTIALS, type SlipwayConfig } from './schema.js';

export const REDACTED = '[redacted]';

/** A copy of the config safe to log or show: secrets replaced, URL passwords masked. */
export function redactConfig(config: SlipwayConfig): Record<string, unknown> {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const path of SECRET_PATHS) {
    const parts = path.split('.');
    let node: unknown = copy;
    for (const part of parts.slice(0, -1)) node = (node as Record<string, unknown> | undefined)?.[part];
    const last = parts[parts.length - 1] as string;
    if (node && typeof node === 'object' && (node as Record<string, unknown>)[last] !== undefined) {
      (node as Record<string, unknown>)[last] = REDACTED;
    }
  }
  for (const key of URL_PATHS_WITH_CREDENTIALS) {
    const value = copy[key];
    if (typeof value === 'string') copy[key] = redactUrl(value);
  }
  return copy;
}

/**
 * Masks the password of a URL (`postgres://u:secret@h/db` → `postgres://u:[redacted]@h/db`). The
 * authority ends at the first `/`, `?` or `#` and its userinfo at the last `@` before that (WHATWG URL),
 * so a password holding a raw `@` is masked whole.
 */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^/?#]*@/i, `$1${REDACTED}@`);
}
