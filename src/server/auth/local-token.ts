import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A token for clients on the same machine as the server: generated once into `<dataDir>/local-token`
 * (mode 0600 in a 0700 directory), so whoever can read Slipway's data directory — and could therefore
 * read its signing key and database anyway — can use the CLI without typing a token, and nobody else can.
 */
export const LOCAL_TOKEN_FILE = 'local-token';

/** The data directory, created readable by its owner only; an existing one is narrowed to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Reads the token, making it first when there is none. */
export function ensureLocalToken(dataDir: string): string {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, LOCAL_TOKEN_FILE);
  const existing = readLocalToken(dataDir);
  if (existing) return existing;
  const token = `slw_local_${randomBytes(32).toString('base64url')}`;
  // 'wx': two processes starting at once must not overwrite each other's token; the loser reads the winner's.
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readLocalToken(dataDir) ?? token;
  }
  return token;
}

/** The token, or undefined when the file is absent or unreadable (another user's server). */
export function readLocalToken(dataDir: string): string | undefined {
  try {
    const token = readFileSync(join(dataDir, LOCAL_TOKEN_FILE), 'utf8').trim();
    return token || undefined;
  } catch {
    return undefined;
  }
}
