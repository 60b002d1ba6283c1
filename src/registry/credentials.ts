import { readFile } from 'node:fs/promises';
import { SlipwayError } from '../core/errors.js';

/**
 * What a registry is given: a user and password (a token may stand for the password), or an identity
 * token (a refresh token for the token service's OAuth2 flow, as `docker login` stores for some registries).
 */
export interface RegistryCredentials {
  username: string;
  password: string;
  /** When set, the token flow asks with `grant_type=refresh_token` and this token instead of the password. */
  identityToken?: string | undefined;
}

export interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfig {
  auths?: Record<string, DockerConfigEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker Hub's credentials live under its legacy index address in config.json and credential helpers. */
export const DOCKER_HUB_INDEX = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export const isDockerHub = (host: string): boolean => DOCKER_HUB_HOSTS.has(host);

/** The server address Docker stores and asks a helper for: the host, or Docker Hub's legacy index URL. */
export const serverAddressFor = (host: string): string => (isDockerHub(host) ? DOCKER_HUB_INDEX : host);

/** config.json keys that may hold a host's entry (Docker writes `host`, older versions `https://host`). */
const keysFor = (host: string): string[] =>
  isDockerHub(host) ? [DOCKER_HUB_INDEX, 'index.docker.io', 'docker.io', 'registry-1.docker.io'] : [host, `https://${host}`, `http://${host}`];

/** Reads a Docker config.json; undefined when there is none. */
export async function readDockerConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SlipwayError(
      'SLW_REGISTRY_AUTH',
      `cannot read the Docker config ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix its permissions`,
      {
        cause: err,
      },
    );
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as DockerConfig;
  } catch {
    // The parser's message may quote the file, which holds secrets.
    throw new SlipwayError('SLW_REGISTRY_AUTH', `the Docker config ${path} is not a JSON object; fix or remove it`);
  }
}

/** The `auths` entry for `host`: base64 `auth`, `username`/`password`, or an `identitytoken`. */
export function authsEntry(config: DockerConfig, host: string, path: string): RegistryCredentials | undefined {
  for (const key of keysFor(host)) {
    const entry = config.auths?.[key];
    if (!entry || typeof entry !== 'object') continue;
    let username = typeof entry.username === 'string' ? entry.username : '';
    let password = typeof entry.password === 'string' ? entry.password : '';
    if (typeof entry.auth === 'string' && entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new SlipwayError('SLW_REGISTRY_AUTH', `the auth entry for ${host} in ${path} is not base64 of user:password; log in again`);
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
    if (typeof entry.identitytoken === 'string' && entry.identitytoken) return { username, password: '', identityToken: entry.identitytoken };
    if (username && password) return { username, password };
  }
  return undefined;
}

/**
 * Credentials for `host` from the `auths` of a Docker config.json file. Kept for callers that only have
 * a file; RegistryAuth (auth.ts) is the resolver that also runs credential helpers.
 */
export async function credentialsFromDockerConfig(path: string, host: string): Promise<RegistryCredentials | undefined> {
  const config = await readDockerConfig(path);
  return config ? authsEntry(config, host, path) : undefined;
}
