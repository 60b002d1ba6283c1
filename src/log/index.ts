export { createLogger, buildLogger, REDACT_PATHS, type Logger, type LoggerOptions } from './logger.js';
export { MASK, MIN_SECRET_LENGTH, SecretMasker } from './mask.js';
export { createMetrics, type Metrics } from './metrics.js';
