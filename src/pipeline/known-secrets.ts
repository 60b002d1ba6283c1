import { SECRET_PATHS, URL_PATHS_WITH_CREDENTIALS, type SlipwayConfig } from '../config/index.js';

/** Environment variable names that hold credentials by convention (registry passwords, API tokens, keys). */
const SECRET_NAME_RE = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_KEY|AUTH)/i;

const at = (config: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), config);

/**
 * Every secret value a worker knows, for masking in build logs: the build secrets, app secrets and clone tokens of
 * every app (read from the worker's environment), the signing key's password, the registry passwords of `registries`, the forge tokens and webhook secrets of
 * the config, passwords in the database, Redis and registry URLs, and any environment variable whose
 * name says it holds a credential. Masking a value that a build never sees costs nothing.
 */
export function knownSecrets(config: SlipwayConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const values: (string | undefined)[] = [];
  for (const app of config.apps) {
    for (const variable of [...Object.values(app.buildSecrets), ...Object.values(app.secrets)]) values.push(env[variable]);
    if (app.cloneToken !== undefined) values.push(env[app.cloneToken]);
  }
  values.push(env[config.signing.passwordEnv]);
  for (const registry of Object.values(config.registries)) values.push(env[registry.passwordEnv]);
  for (const path of SECRET_PATHS) {
    const value = at(config, path);
    if (typeof value === 'string') values.push(value);
  }
  for (const raw of [...URL_PATHS_WITH_CREDENTIALS.map((p) => at(config, p)), config.registry.url]) {
    if (typeof raw !== 'string') continue;
    try {
      const url = new URL(raw);
      if (url.password) values.push(decodeURIComponent(url.password));
    } catch {
      // not a URL (a file path for SQLite): no password in it
    }
  }
  for (const [name, value] of Object.entries(env)) if (SECRET_NAME_RE.test(name)) values.push(value);
  return values.filter((v): v is string => typeof v === 'string' && v !== '');
}
