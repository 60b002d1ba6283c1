import { readFile } from 'node:fs/promises';
import { SlipwayError } from '../core/errors.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker Hub is stored under its legacy key in config.json. */
const keysFor = (host: string): string[] =>
  host === 'docker.io' ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'] : [host, `https://${host}`, `http://${host}`];

/**
 * Reads credentials for `host` from a Docker `config.json` (`auths` entries). Credential helpers run
 * external programs; Slipway does not run them and says so rather than silently going anonymous.
 */
export async function credentialsFromDockerConfig(path: string, host: string): Promise<RegistryCredentials | undefined> {
  let config: DockerConfig;
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SlipwayError('SLW_REGISTRY_AUTH', `cannot read Docker config ${path}: ${(err as Error).message}`, { cause: err });
  }
  for (const key of keysFor(host)) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new SlipwayError('SLW_REGISTRY_AUTH', `the auth entry for ${host} in ${path} is not base64 of user:password`);
      return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (helper) {
    throw new SlipwayError(
      'SLW_REGISTRY_AUTH',
      `${path} keeps the credentials for ${host} in the credential helper "docker-credential-${helper}", which Slipway does not run; add an auths entry for ${host} instead`,
    );
  }
  return undefined;
}
