import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** What `slipway login` stores: the server and the token for it. */
export interface Credentials {
  server: string;
  token: string;
}

/** `$XDG_CONFIG_HOME/slipway/credentials.json`, else `~/.config/slipway/credentials.json` (XDG Base Directory spec). */
export function credentialsPath(env: Record<string, string | undefined>): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base ? join(base, 'slipway', 'credentials.json') : undefined;
}

/** Read synchronously: every client command resolves its server before doing anything else. */
export function readCredentials(env: Record<string, string | undefined>): Credentials | undefined {
  const path = credentialsPath(env);
  if (!path) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
    return typeof parsed.server === 'string' && typeof parsed.token === 'string' ? { server: parsed.server, token: parsed.token } : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the file readable by its owner only (0600, directory 0700): it holds a secret. */
export async function writeCredentials(env: Record<string, string | undefined>, credentials: Credentials): Promise<string> {
  const path = credentialsPath(env);
  if (!path) throw new Error('neither XDG_CONFIG_HOME nor HOME is set: nowhere to store credentials');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // writeFile's mode applies only when it creates the file
  return path;
}
