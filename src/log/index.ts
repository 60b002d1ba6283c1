export { createLogger, buildLogger, REDACT_PATHS, type Logger, type LoggerOptions } from './logger.js';
export { MASK, MIN_SECRET_LENGTH, SecretMasker } from './mask.js';
