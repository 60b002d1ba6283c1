import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SlipwayError } from '../core/errors.js';
import { envKeys, parseEnvValue } from './env.js';
import { configSchema, type SlipwayConfig } from './schema.js';

export interface LoadConfigOptions {
  /** Explicit file (`--config`); falls back to `SLIPWAY_CONFIG`, then `./slipway.yaml` when it exists. */
  file?: string | undefined;
  /** The environment to read `SLIPWAY_*` keys from. Passed in so that nothing else reads process.env. */
  env: Record<string, string | undefined>;
  /** Directory relative paths resolve against. Default: process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  config: SlipwayConfig;
  /** The file read, or undefined when running on embedded defaults. */
  file: string | undefined;
  /** Env variables that set keys, for the start-up log (names only). */
  envOverrides: string[];
}

interface Problem {
  path: string;
  message: string;
}

export const DEFAULT_CONFIG_FILE = 'slipway.yaml';

/**
 * Reads the config file and `SLIPWAY_*` env once at start, validates it, and reports every problem at
 * once with its key path (and the env variable when the value came from env).
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? options.env.SLIPWAY_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? resolve(cwd, DEFAULT_CONFIG_FILE) : undefined;

  const problems: Problem[] = [];
  const raw = file ? readConfigFile(file) : {};

  const envOverrides: string[] = [];
  const fromEnv = new Map<string, string>();
  for (const key of envKeys(configSchema)) {
    const value = options.env[key.env];
    if (value === undefined) continue;
    const parsed = parseEnvValue(key, value);
    if ('error' in parsed) {
      problems.push({ path: key.path.join('.'), message: `${parsed.error} (from ${key.env})` });
      continue;
    }
    setPath(raw, key.path, parsed.value);
    envOverrides.push(key.env);
    fromEnv.set(key.path.join('.'), key.env);
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String).join('.') || '(root)';
      const envVar = [...fromEnv.entries()].find(([p]) => path === p || path.startsWith(`${p}.`))?.[1];
      problems.push({ path, message: describeIssue(issue) + (envVar ? ` (from ${envVar})` : '') });
    }
  }
  if (problems.length > 0) {
    const where = file ? ` in ${file}` : '';
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
    throw new SlipwayError('SLW_CONFIG_INVALID', `configuration${where} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines}`, {
      details: { problems },
    });
  }
  return { config: result.data as SlipwayConfig, file, envOverrides };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SlipwayError(
      'SLW_CONFIG_FILE',
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; pass an existing file with --config or SLIPWAY_CONFIG`,
      { cause: err },
    );
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.length !== 1) {
    throw new SlipwayError('SLW_CONFIG_FILE', `config file ${file} must hold exactly one YAML document`);
  }
  const doc = docs[0]!;
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new SlipwayError('SLW_CONFIG_FILE', `config file ${file} is not valid YAML: ${first.message}`, { cause: first });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SlipwayError('SLW_CONFIG_FILE', `config file ${file} must be a YAML mapping of keys (server, apps, …)`);
  }
  return value as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null || typeof next !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function describeIssue(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling (see docs/configuration.md)`;
  }
  return issue.message;
}
