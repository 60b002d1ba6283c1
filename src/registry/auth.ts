import { homedir } from 'node:os';
import { join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { runCredentialHelper } from './cred-helper.js';
import { authsEntry, isDockerHub, readDockerConfig, serverAddressFor, type RegistryCredentials } from './credentials.js';

/** `registries.<host>` of slipway.yaml: a user and the name of the variable holding the password. */
export interface ConfiguredRegistry {
  username: string;
  passwordEnv: string;
}

export interface RegistryAuthOptions {
  /** `registries` of slipway.yaml, by host (`ghcr.io`, `127.0.0.1:5001`). */
  registries?: Readonly<Record<string, ConfiguredRegistry>> | undefined;
  /** The process environment: passwords (passwordEnv), DOCKER_CONFIG, HOME, and PATH for credential helpers. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Longest a credential helper may take. Default 10 s. */
  helperTimeoutMs?: number | undefined;
}

/** Credentials and where they came from (never the value): for messages. */
export interface FoundCredentials {
  credentials: RegistryCredentials | undefined;
  /** `registries."ghcr.io" of the configuration`, `docker-credential-pass (credHelpers in /root/.docker/config.json)`. */
  source: string | undefined;
}

/** What the registry transport needs of a resolver: credentials for a host, and where they were looked for. */
export interface CredentialSource {
  credentialsFor(host: string): Promise<RegistryCredentials | undefined>;
  /** Where credentials for `host` were looked for, and where they were found: for SLW_REGISTRY_AUTH messages. */
  describe(host: string): string;
}

/**
 * The one place Slipway finds registry credentials, first match wins:
 * 1. `registries.<host>` of slipway.yaml (the password from the variable `passwordEnv` names);
 * 2. Docker's config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a `credHelpers` entry for
 *    the host, else `credsStore`, run as Docker runs them (`docker-credential-<name> get`); then `auths`.
 * Anonymous when none has the host. Answers are kept per host for the resolver's life (one process), so a
 * helper runs once per host, not once per request.
 */
export class RegistryAuth implements CredentialSource {
  private readonly found = new Map<string, Promise<FoundCredentials>>();
  private readonly settled = new Map<string, FoundCredentials>();
  private readonly env: Readonly<Record<string, string | undefined>>;

  constructor(private readonly options: RegistryAuthOptions = {}) {
    this.env = options.env ?? {};
  }

  /** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  get dockerConfigPath(): string {
    const dir = this.env.DOCKER_CONFIG || join(this.env.HOME || homedir(), '.docker');
    return join(dir, 'config.json');
  }

  async credentialsFor(host: string): Promise<RegistryCredentials | undefined> {
    return (await this.lookup(host)).credentials;
  }

  /** Docker Hub answers under several names (BuildKit asks for registry-1.docker.io); all are `docker.io` here. */
  lookup(asked: string): Promise<FoundCredentials> {
    const host = isDockerHub(asked) ? 'docker.io' : asked;
    let found = this.found.get(host);
    if (!found) {
      found = this.resolve(host);
      // A failure (a helper that timed out) is not kept: the next build tries again.
      found.catch(() => this.found.delete(host));
      this.found.set(host, found);
    }
    return found;
  }

  describe(asked: string): string {
    const host = isDockerHub(asked) ? 'docker.io' : asked;
    const settled = this.settled.get(host);
    if (settled?.source) return `credentials from ${settled.source}`;
    return `no credentials for ${host} in registries of the configuration nor in ${this.dockerConfigPath} (credHelpers, credsStore, auths)`;
  }

  private async resolve(host: string): Promise<FoundCredentials> {
    const result = await this.search(host);
    this.settled.set(host, result);
    return result;
  }

  private async search(host: string): Promise<FoundCredentials> {
    const configured = this.options.registries?.[host];
    if (configured) {
      const password = this.env[configured.passwordEnv];
      if (!password) {
        throw new SlipwayError(
          'SLW_REGISTRY_AUTH',
          `registries."${host}" of the configuration takes its password from the environment variable ${configured.passwordEnv}, which is not set; set it in Slipway's environment`,
        );
      }
      return { credentials: { username: configured.username, password }, source: `registries."${host}" of the configuration` };
    }
    const path = this.dockerConfigPath;
    const config = await readDockerConfig(path);
    if (!config) return { credentials: undefined, source: undefined };
    const server = serverAddressFor(host);
    const helperOptions = (from: string) => ({ from, env: this.env, timeoutMs: this.options.helperTimeoutMs ?? 10_000 });
    const helper = typeof config.credHelpers?.[host] === 'string' ? config.credHelpers[host] : undefined;
    if (helper) {
      const from = `credHelpers in ${path}`;
      const credentials = await runCredentialHelper(helper, server, helperOptions(from));
      return { credentials, source: credentials ? `docker-credential-${helper} (${from})` : undefined };
    }
    if (typeof config.credsStore === 'string' && config.credsStore) {
      const from = `credsStore in ${path}`;
      const credentials = await runCredentialHelper(config.credsStore, server, helperOptions(from));
      if (credentials) return { credentials, source: `docker-credential-${config.credsStore} (${from})` };
    }
    const credentials = authsEntry(config, host, path);
    return { credentials, source: credentials ? `auths in ${path}` : undefined };
  }
}
