import { SlipwayError, type ErrorCode } from '../core/errors.js';
import type { ForgeId } from './registry.js';
import type { ForgeTerms } from './terms-type.js';

/**
 * How a failed forge API call becomes a SlipwayError, the same way for every forge. The feedback
 * queue retries the retryable ones and waits `details.retryAfterMs` when the forge said how long.
 */

/** Longest wait Slipway accepts from a forge; beyond it the queue's own backoff applies. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

export interface ForgeFailure {
  forge: ForgeId;
  /** The forge's words: its name in messages. */
  terms: ForgeTerms;
  /** The config keys that hold its API credentials, named when they are refused (`gitlab.token`). */
  credentials: string;
  /** What Slipway was doing, e.g. `creating check run slipway/local on octo/hello`. */
  action: string;
  /** HTTP status, or undefined when no answer came (connection refused, timeout). */
  status: number | undefined;
  /** The forge's own message, when it sent one (never a token: forges do not echo them). */
  message?: string | undefined;
  retryAfterMs?: number | undefined;
  /** Set by the forge when the status alone does not say it (GitHub's 403 rate limits). */
  rateLimited?: boolean;
  cause?: unknown;
}

/** Status → catalog code: no answer and 5xx retry, 429/rate limits retry later, other 4xx do not. */
export function forgeError(f: ForgeFailure): SlipwayError {
  const name = f.terms.displayName;
  const said = f.message ? `: ${f.message}` : '';
  let code: ErrorCode;
  let hint: string;
  if (f.status === undefined) {
    code = 'SLW_FORGE_UNREACHABLE';
    hint = `${name} did not answer; check ${f.forge}.apiUrl and the network (Slipway retries)`;
  } else if (f.rateLimited || f.status === 429) {
    code = 'SLW_FORGE_RATE_LIMITED';
    hint = `${name} rate limit reached; Slipway retries after the time ${name} asked for`;
  } else if (f.status >= 500) {
    code = 'SLW_FORGE_UNREACHABLE';
    hint = `${name} answered ${f.status}; Slipway retries`;
  } else if (f.status === 401 || f.status === 403) {
    code = 'SLW_FORGE_FORBIDDEN';
    hint = `${name} answered ${f.status}; check ${f.credentials} and its scopes`;
  } else {
    code = 'SLW_FORGE_REJECTED';
    hint = `${name} answered ${f.status}`;
  }
  return new SlipwayError(code, `${f.action} failed${said}; ${hint}`, {
    cause: f.cause,
    details: {
      forge: f.forge,
      ...(f.status === undefined ? {} : { status: f.status }),
      ...(f.retryAfterMs === undefined ? {} : { retryAfterMs: f.retryAfterMs }),
    },
  });
}

/** Cuts text to `max` characters with an ellipsis, for fields forges cap (descriptions, summaries). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
