export { loadConfig, DEFAULT_CONFIG_FILE, type LoadConfigOptions, type LoadedConfig } from './load.js';
export {
  configSchema,
  SECRET_PATHS,
  URL_PATHS_WITH_CREDENTIALS,
  type SlipwayConfig,
  type AppConfig,
  type TargetConfig,
  type LocalTargetConfig,
  type KnativeTargetConfig,
} from './schema.js';
export { redactConfig, redactUrl, REDACTED } from './redact.js';
export { envKeys, envName } from './env.js';
export { parseDuration } from './duration.js';
export { configReference, type ReferenceRow } from './reference.js';
export { configurationDoc } from './reference-doc.js';
export { appsOfRepo, isAppRepo, parseRepoSpec } from './repo-spec.js';
