import { loadConfig, type LoadedConfig } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { RegistryAuth, RegistryClient } from '../registry/index.js';
import { ApiClient } from '../client/api-client.js';
import { readCredentials } from './credentials.js';
import { readLocalToken } from '../server/auth/local-token.js';
import { resolve } from 'node:path';

/** What every command gets from the entry point: the process env (read only there), streams, options. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  cwd: string;
  /** Where commands read values that must not go on the command line (secrets). Default: process.stdin. */
  stdin?: NodeJS.ReadableStream;
}

export interface GlobalOptions {
  config?: string;
  server?: string;
}

export function loadCliConfig(ctx: CliContext, opts: GlobalOptions): LoadedConfig {
  return loadConfig({ file: opts.config, env: ctx.env, cwd: ctx.cwd });
}

/**
 * A registry client for `host` with the credentials Slipway would use (`registries` of the config, then
 * Docker's config.json and its credential helpers), as every command that reads or writes images needs.
 */
export function registryClient(ctx: CliContext, opts: GlobalOptions, host: string): RegistryClient {
  const { config } = loadCliConfig(ctx, opts);
  return new RegistryClient({ host, auth: new RegistryAuth({ registries: config.registries, env: ctx.env }) });
}

export function processLogger(ctx: CliContext, level: string): Logger {
  // People read a terminal; machines read JSON (docs/architecture.md).
  return createLogger({ level, pretty: Boolean(ctx.stdout.isTTY) && ctx.env.SLIPWAY_LOG_FORMAT !== 'json' });
}

/**
 * The server a client command talks to: --server, then SLIPWAY_SERVER, then the server `slipway login`
 * stored, then server.publicUrl of the config. The token: SLIPWAY_TOKEN, else the stored one — only
 * when talking to the server it was stored for, so a token never goes to another server.
 */
export function apiClient(ctx: CliContext, opts: GlobalOptions): ApiClient {
  const stored = readCredentials(ctx.env);
  const url = opts.server ?? ctx.env.SLIPWAY_SERVER ?? stored?.server ?? loadCliConfig(ctx, opts).config.server.publicUrl;
  const sameServer = stored !== undefined && stored.server.replace(/\/$/, '') === url.replace(/\/$/, '');
  return new ApiClient(url, ctx.env.SLIPWAY_TOKEN || (sameServer ? stored.token : undefined) || localToken(ctx, opts, url));
}

/**
 * The token the server on this machine generated into its data directory, for a server on loopback only:
 * it is worth the whole installation, so it never travels to another host.
 */
function localToken(ctx: CliContext, opts: GlobalOptions, url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  if (!isLoopbackHost(host)) return undefined;
  let config;
  try {
    config = loadCliConfig(ctx, opts).config;
  } catch {
    return undefined; // a command aimed at --server needs no valid local config; it goes without the token
  }
  return config.api.localToken ? readLocalToken(resolve(ctx.cwd, config.dataDir)) : undefined;
}

const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
