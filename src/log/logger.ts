import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object: a last line of defence behind the rule
 * that secrets are never passed to a logger in the first place.
 */
export const REDACT_PATHS = [
  'token',
  'secret',
  'password',
  'authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'headers["x-hub-signature"]',
  'headers["x-gitlab-token"]',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-gitlab-token"]',
];

export interface LoggerOptions {
  /** pino level. Default `info`. */
  level?: string;
  /** Pretty output for people (the CLI on a TTY); JSON otherwise. Default false. */
  pretty?: boolean;
  /** Where lines go. Default stdout. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { name: 'slipway' },
  };
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,name' } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** Child logger tagged with the build it works on (passed down, never a global). */
export function buildLogger(parent: Logger, fields: { build: string; app?: string; delivery?: string }): Logger {
  return parent.child(fields);
}
