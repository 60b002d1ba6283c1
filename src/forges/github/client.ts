import { Octokit } from '@octokit/rest';
import { SlipwayError } from '../../core/errors.js';
import type { Logger } from '../../log/index.js';
import { forgeError, parseRetryAfter } from '../api-errors.js';
import type { ForgeApiOptions } from '../types.js';
import { createAppTokens, type AppTokens } from './app-auth.js';
import { githubTerms } from './terms.js';

/** What to check when GitHub refuses Slipway's credentials. */
const CREDENTIALS = 'github.token (or github.app)';

/**
 * The GitHub REST client feedback uses: one Octokit (`@octokit/rest`) per forge instance, and the
 * `Authorization` header chosen per call, because with a GitHub App every repository may belong to
 * another installation (another token). No Octokit retry or throttling plugin: retries belong to the
 * feedback queue, which persists them (a restart loses none) and honours Retry-After.
 */
export interface GithubClient {
  readonly octokit: Octokit;
  /** `{ authorization }` for calls about `repo` (`owner/name`). */
  headers(repo: string): Promise<{ authorization: string }>;
  /** Per-call options every request gets (a timeout). */
  request(): { signal: AbortSignal };
  /** Splits `owner/name`. */
  split(repo: string): { owner: string; repo: string };
  /** Turns a failed call into a SlipwayError; `action` says what Slipway was doing. */
  fail(err: unknown, action: string): SlipwayError;
  /** The GitHub App's id and its installation tokens, when an App is configured. */
  readonly app: { id: string | number; tokens: AppTokens } | undefined;
  /** `github.token`, when no App is configured. */
  readonly token: string | undefined;
}

/** What Octokit's RequestError carries (duck-typed: @octokit/request-error is not a direct dependency). */
interface OctokitFailure {
  status?: number;
  message?: string;
  response?: { status: number; headers: Record<string, string | undefined>; data: unknown };
}

export function createGithubClient(options: ForgeApiOptions, logger: Logger | undefined): GithubClient | undefined {
  const { token, app } = options;
  if (token === undefined && app === undefined) return undefined;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const octokit = new Octokit({
    baseUrl: options.url.replace(/\/$/, ''),
    userAgent: 'slipway',
    // Octokit logs deprecations with console by default; Slipway's logs are JSON through pino.
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => logger?.warn({ forge: 'github' }, message),
      error: (message: string) => logger?.error({ forge: 'github' }, message),
    },
  });
  // An App, when configured, wins over a token: installation tokens are scoped to the repositories
  // the App was granted, which is what GitHub recommends for integrations.
  const tokens: AppTokens | undefined = app === undefined ? undefined : createAppTokens(octokit, app);
  const client: GithubClient = {
    octokit,
    async headers(repo) {
      if (tokens !== undefined) {
        const { owner, repo: name } = client.split(repo);
        return { authorization: `token ${await tokens.installationToken(owner, name, client)}` };
      }
      return { authorization: `token ${token ?? ''}` };
    },
    request: () => ({ signal: AbortSignal.timeout(timeoutMs) }),
    split(repo) {
      const i = repo.indexOf('/');
      return { owner: repo.slice(0, i), repo: repo.slice(i + 1) };
    },
    fail: (err, action) => githubError(err, action),
    app: tokens === undefined ? undefined : { id: app!.id, tokens },
    token: tokens === undefined ? token : undefined,
  };
  return client;
}

/**
 * GitHub's rate limits ("Rate limits for the REST API", docs.github.com): a primary limit answers 403
 * or 429 with `x-ratelimit-remaining: 0` (wait until `x-ratelimit-reset`, epoch seconds); a secondary
 * limit answers 403 or 429, with `retry-after` when GitHub says how long, otherwise "wait at least one
 * minute". The docs name the secondary limit only in the message, so that is read for 403s without
 * headers. A plain 403 (no permission, e.g. a token that cannot write checks) is not a rate limit.
 */
export function githubError(err: unknown, action: string, now = Date.now()): SlipwayError {
  if (err instanceof SlipwayError) return err;
  const failure = (typeof err === 'object' && err !== null ? err : {}) as OctokitFailure;
  const response = failure.response;
  if (response === undefined) {
    // No answer: connection refused, DNS, timeout (Octokit reports these as status 500 without a response).
    return forgeError({ forge: 'github', terms: githubTerms, credentials: CREDENTIALS, action, status: undefined, message: failure.message, cause: err });
  }
  const h = response.headers;
  const message = messageOf(response.data) ?? failure.message;
  let retryAfterMs = parseRetryAfter(h['retry-after'], now);
  let rateLimited = false;
  if (response.status === 403 || response.status === 429) {
    if (h['x-ratelimit-remaining'] === '0' && h['x-ratelimit-reset'] !== undefined) {
      rateLimited = true;
      retryAfterMs ??= Math.max(Number(h['x-ratelimit-reset']) * 1000 - now, 0);
    } else if (retryAfterMs !== undefined || response.status === 429 || /secondary rate limit/i.test(message ?? '')) {
      rateLimited = true;
      retryAfterMs ??= 60_000;
    }
  }
  return forgeError({
    forge: 'github',
    terms: githubTerms,
    credentials: CREDENTIALS,
    action,
    status: response.status,
    message,
    retryAfterMs,
    rateLimited,
    cause: err,
  });
}

function messageOf(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return typeof data === 'string' && data !== '' ? data.slice(0, 200) : undefined;
}

/** True for a 404 answer (a comment or deployment that was deleted on GitHub). */
export function isNotFound(err: unknown): boolean {
  return err instanceof SlipwayError && err.details?.['status'] === 404;
}
