import { spawn } from 'node:child_process';
import { SlipwayError } from '../core/errors.js';
import type { RegistryCredentials } from './credentials.js';

/** docker-credential-helpers' answer when it has nothing for the server (credentials/error.go). */
const NOT_FOUND = 'credentials not found in native keychain';
/** Docker CLI's marker in Username: the Secret is an identity token, not a password. */
const TOKEN_USERNAME = '<token>';
/** A helper's answer is a few hundred bytes; more is not a helper answering. */
const MAX_OUTPUT = 64 * 1024;

export interface CredentialHelperOptions {
  /** Where the helper's name came from, for messages (`credHelpers in /root/.docker/config.json`). */
  from: string;
  env: Readonly<Record<string, string | undefined>>;
  timeoutMs: number;
}

/**
 * Runs `docker-credential-<name> get` as Docker does (docker-credential-helpers' client protocol): the
 * server address on stdin, `{"ServerURL","Username","Secret"}` on stdout. No shell, the name is checked,
 * the output is never shown (it holds the secret), and a helper that hangs is killed at the timeout.
 * Undefined when the helper has no credentials for the server.
 */
export async function runCredentialHelper(name: string, serverAddress: string, options: CredentialHelperOptions): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new SlipwayError('SLW_REGISTRY_AUTH', `the credential helper name "${name}" in ${options.from} is not a plain program name suffix; fix it`);
  }
  const program = `docker-credential-${name}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  const { code, stdout, failure } = await new Promise<{ code: number | null; stdout: string; failure?: NodeJS.ErrnoException | 'timeout' }>((resolve) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'ignore'], shell: false });
    let out = '';
    let done = false;
    const finish = (result: { code: number | null; stdout: string; failure?: NodeJS.ErrnoException | 'timeout' }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ code: null, stdout: '', failure: 'timeout' });
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.length > MAX_OUTPUT) child.kill('SIGKILL');
    });
    child.on('error', (err) => finish({ code: null, stdout: '', failure: err }));
    child.on('close', (exit) => finish({ code: exit, stdout: out }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverAddress);
  });
  if (failure === 'timeout') {
    throw new SlipwayError(
      'SLW_REGISTRY_AUTH',
      `${program} (from ${options.from}) did not answer for ${serverAddress} within ${options.timeoutMs} ms; check that it works: echo ${serverAddress} | ${program} get`,
    );
  }
  if (failure) {
    const missing = failure.code === 'ENOENT';
    throw new SlipwayError(
      'SLW_REGISTRY_AUTH',
      missing
        ? `${options.from} names the credential helper ${program}, which is not on the PATH of Slipway's process; install it or remove the entry`
        : `${program} (from ${options.from}) could not be started (${failure.code ?? 'error'})`,
    );
  }
  if (code !== 0) {
    if (stdout.trim() === NOT_FOUND) return undefined;
    // Its output may echo what it was given or hold part of a secret: say only that it failed.
    throw new SlipwayError(
      'SLW_REGISTRY_AUTH',
      `${program} (from ${options.from}) failed for ${serverAddress} (exit ${code ?? 'signal'}); run: echo ${serverAddress} | ${program} get`,
    );
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
  } catch {
    throw new SlipwayError('SLW_REGISTRY_AUTH', `${program} (from ${options.from}) answered for ${serverAddress} with something that is not JSON`);
  }
  const username = typeof answer.Username === 'string' ? answer.Username : '';
  const secret = typeof answer.Secret === 'string' ? answer.Secret : '';
  if (!secret) return undefined;
  if (username === TOKEN_USERNAME) return { username: '', password: '', identityToken: secret };
  return { username, password: secret };
}
