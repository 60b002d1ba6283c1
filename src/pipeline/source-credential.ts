import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppConfig, SlipwayConfig } from '../config/index.js';
import { SlipwayError } from '../core/errors.js';
import type { ForgeId } from '../forges/registry.js';
import type { Forge } from '../forges/types.js';
import type { FetchSource } from './fetch-source.js';

/**
 * What git authenticates a fetch with. `token` is a secret; `credential` names it in errors and logs
 * (`GitHub App 12 installation 345`, `github.token`, `deploy key /etc/slipway/hello.key`).
 */
export type SourceCredential =
  | { kind: 'none' }
  | { kind: 'token'; username: string; token: string; credential: string; grant: string }
  | { kind: 'deploy-key'; keyFile: string; knownHosts: string; credential: string; grant: string };

export interface CredentialInput {
  app: AppConfig;
  config: SlipwayConfig;
  forges?: ReadonlyMap<ForgeId, Forge> | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
  cwd: string;
}

const unusable = (message: string) => new SlipwayError('SLW_SOURCE_CREDENTIAL', message);

/**
 * The credential for one fetch, most specific first: the app's deploy key (ssh:// only), the app's
 * `cloneToken`, then the forge's own (GitHub App installation token, `github.token`, `gitlab.token`) —
 * the forge's only for a URL under that forge's `gitUrl`, so a mirror named in `cloneUrl` never receives
 * the forge's token. Local sources need none.
 */
export async function sourceCredential(input: CredentialInput, source: FetchSource): Promise<SourceCredential> {
  const { app } = input;
  if (source.protocol === 'file') return { kind: 'none' };
  if (app.deployKey !== undefined) {
    if (source.protocol !== 'ssh') throw unusable(`apps[${app.name}].deployKey is used over ssh:// only; set cloneUrl to the repository's ssh:// URL`);
    return deployKey(input);
  }
  if (source.protocol === 'ssh') return { kind: 'none' };
  let credential: SourceCredential = { kind: 'none' };
  if (app.cloneToken !== undefined) {
    const token = input.env?.[app.cloneToken];
    if (token === undefined || token === '') {
      throw unusable(
        `apps[${app.name}].cloneToken names ${app.cloneToken}, but the worker's environment has no ${app.cloneToken}; set it where the worker runs`,
      );
    }
    credential = {
      kind: 'token',
      // GitHub reads the token as the password whatever the user; GitLab takes any user with a token.
      username: app.repo.startsWith('gitlab:') ? 'oauth2' : 'x-access-token',
      token,
      credential: `apps[${app.name}].cloneToken (${app.cloneToken})`,
      grant: `give the token in ${app.cloneToken} read access to the repository`,
    };
  } else if (source.forge !== undefined) {
    const forge = input.forges?.get(source.forge.id)?.source;
    if (forge !== undefined) credential = { kind: 'token', ...(await forge.token(source.forge.repo)) };
  }
  if (credential.kind === 'token' && source.protocol === 'http' && !isLoopback(source.url)) {
    throw unusable(`${credential.credential} would be sent in clear text to ${new URL(source.url).host}; fetch over https://`);
  }
  return credential;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// ssh expands `%x` tokens and splits on whitespace in IdentityFile and UserKnownHostsFile, and
// GIT_SSH_COMMAND goes through a shell: paths are held to characters that mean nothing to any of them.
const SAFE_PATH_RE = /^\/[A-Za-z0-9._/+@,=-]*$/;
const MAX_FILE = 64 * 1024;

async function deployKey(input: CredentialInput): Promise<SourceCredential> {
  const { app } = input;
  const keyFile = resolve(input.cwd, app.deployKey!);
  const knownHosts = resolve(input.cwd, app.knownHosts ?? '');
  if (app.knownHosts === undefined)
    throw unusable(`apps[${app.name}].deployKey needs knownHosts: a file with the server's host key (no host is trusted on first use)`);
  const credential = `deploy key ${keyFile}`;
  for (const [key, path] of [
    ['deployKey', keyFile],
    ['knownHosts', knownHosts],
  ] as const) {
    if (!SAFE_PATH_RE.test(path)) {
      throw unusable(
        `apps[${app.name}].${key} (${JSON.stringify(path)}) may hold only letters, digits and . _ / + @ , = -; move or link the file to such a path`,
      );
    }
  }
  const key = await readSmallFile(keyFile, `apps[${app.name}].deployKey`);
  // What ssh itself demands of a private key ("UNPROTECTED PRIVATE KEY FILE"), said before ssh runs.
  if ((key.mode & 0o077) !== 0) {
    throw unusable(`${credential} is readable or writable by others (mode ${(key.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.text.trimStart())) {
    throw unusable(`${credential} is not a private key in PEM or OpenSSH format (ssh-keygen -t ed25519 -N '' -f FILE makes one)`);
  }
  const hosts = await readSmallFile(knownHosts, `apps[${app.name}].knownHosts`);
  // Whoever may write it decides which servers are trusted.
  if ((hosts.mode & 0o022) !== 0) {
    throw unusable(`apps[${app.name}].knownHosts ${knownHosts} is writable by others (mode ${(hosts.mode & 0o777).toString(8)}); chmod 644 it`);
  }
  if (!hosts.text.split('\n').some((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))) {
    throw unusable(`apps[${app.name}].knownHosts ${knownHosts} holds no host key; add the server's (ssh-keyscan, checked against what the forge publishes)`);
  }
  return { kind: 'deploy-key', keyFile, knownHosts, credential, grant: `add the public half of ${keyFile} to the repository as a read-only deploy key` };
}

async function readSmallFile(path: string, what: string): Promise<{ text: string; mode: number }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw unusable(
      `${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path and that the worker's user may read it`,
    );
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw unusable(`${what} ${path} is not a regular file`);
    if (stat.size > MAX_FILE) throw unusable(`${what} ${path} is larger than ${MAX_FILE / 1024} KiB; is it the right file?`);
    return { text: await handle.readFile('utf8'), mode: stat.mode };
  } finally {
    await handle.close();
  }
}

/** Single-quoted for the shell git runs GIT_SSH_COMMAND with (paths are SAFE_PATH_RE already). */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The environment that gives git the credential, and nothing on its command line: `ps` shows argv to
 * every user, while a process's environment is readable by its own user only.
 * - A token becomes an `Authorization: Basic` header through `GIT_CONFIG_COUNT` (configuration that
 *   lives in the environment, never in `.git/config`), for this URL only, with redirects refused so the
 *   header cannot follow one to another host.
 * - A deploy key becomes `GIT_SSH_COMMAND`: that key alone (no agent, no ~/.ssh/config, no other
 *   identity), host keys checked strictly against `knownHosts` and never added to it, no prompts.
 */
export function credentialEnv(credential: SourceCredential, url: string): Record<string, string> {
  if (credential.kind === 'none') return {};
  if (credential.kind === 'token') {
    const basic = Buffer.from(`${credential.username}:${credential.token}`).toString('base64');
    return {
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      GIT_CONFIG_KEY_1: 'http.followRedirects',
      GIT_CONFIG_VALUE_1: 'false',
    };
  }
  const options = [
    'IdentitiesOnly=yes',
    'IdentityAgent=none',
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${credential.knownHosts}`,
    'GlobalKnownHostsFile=/dev/null',
    'UpdateHostKeys=no',
    'BatchMode=yes',
    'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no',
    'ConnectTimeout=30',
  ];
  return {
    GIT_SSH_COMMAND: ['ssh', '-F', '/dev/null', '-i', quote(credential.keyFile), ...options.flatMap((o) => ['-o', quote(o)])].join(' '),
    GIT_SSH_VARIANT: 'ssh',
  };
}
