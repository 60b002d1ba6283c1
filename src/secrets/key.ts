import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { KEY_BYTES, SecretBox } from './box.js';

/** The key file the embedded default generates (below the 0700 data directory). */
export const SECRETS_KEY_FILE = 'secrets.key';

export interface LoadedSecretKey {
  box: SecretBox;
  /** Where the key came from: the environment variable's name, or the file's path. */
  source: string;
  /** True when this call generated the file (the caller says so in its log). */
  generated: boolean;
}

/** 32 bytes written as base64 (44 characters) or hex (64 digits). */
function parseKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  if (!key || key.length !== KEY_BYTES)
    throw new SlipwayError(
      'SLW_SECRET_KEY',
      `${where} does not hold a ${KEY_BYTES}-byte key written as base64 or 64 hex digits; make one with: openssl rand -base64 ${KEY_BYTES}`,
    );
  return key;
}

/**
 * The key that seals app secrets: from the environment variable `keyEnv` when it is set (production: the
 * same value for the server, the workers and the routers), else from `<dataDir>/secrets.key`, generated
 * on first use with mode 0600 (the embedded default, where every process shares the data directory).
 * The key's value is never logged or put in an error.
 */
export function loadSecretKey(options: { keyEnv: string; env: Readonly<Record<string, string | undefined>>; dataDir: string }): LoadedSecretKey {
  const fromEnv = options.env[options.keyEnv];
  if (fromEnv) return { box: new SecretBox(parseKey(fromEnv, `$${options.keyEnv}`)), source: `$${options.keyEnv}`, generated: false };
  const file = join(options.dataDir, SECRETS_KEY_FILE);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  let generated = false;
  try {
    // 'wx': two processes starting at once must not each write a key; the loser reads the winner's.
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    generated = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SlipwayError('SLW_SECRET_KEY', `cannot write ${file}: ${(err as Error).message}`);
  }
  // An existing file readable by others is narrowed, as the data directory is.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SlipwayError('SLW_SECRET_KEY', `cannot read the secrets key ${file}: ${(err as Error).message}; or set $${options.keyEnv}`);
  }
  return { box: new SecretBox(parseKey(text, file)), source: file, generated };
}
