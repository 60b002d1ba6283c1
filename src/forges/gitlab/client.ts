import { SlipwayError } from '../../core/errors.js';
import { forgeError, parseRetryAfter } from '../api-errors.js';
import type { ForgeApiOptions } from '../types.js';
import { gitlabTerms } from './terms.js';

/**
 * A small typed client for GitLab's REST API v4 over Node's fetch, rather than `@gitbeaker/rest`:
 * Slipway calls eight endpoints, needs the raw status and `Retry-After` of every failure (retries are
 * the feedback queue's, not the client's), and gains nothing from a library of hundreds of resources.
 * Authentication is `PRIVATE-TOKEN` (personal, project or group access token; docs.gitlab.com,
 * "REST API authentication"). Projects are addressed by their URL-encoded path ("Namespaced paths").
 */
export interface GitlabClient {
  request<T>(method: 'GET' | 'POST' | 'PUT', path: string, action: string, body?: Record<string, unknown>): Promise<GitlabResponse<T>>;
  /** `/projects/group%2Fproject` */
  project(repo: string): string;
}

export interface GitlabResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

export function createGitlabClient(options: ForgeApiOptions): GitlabClient | undefined {
  const token = options.token;
  if (token === undefined) return undefined;
  const base = options.url.replace(/\/$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    project: (repo) => `/projects/${encodeURIComponent(repo)}`,
    async request<T>(method: string, path: string, action: string, body?: Record<string, unknown>): Promise<GitlabResponse<T>> {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: {
            'private-token': token,
            accept: 'application/json',
            'user-agent': 'slipway',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        const why = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
        throw forgeError({ forge: 'gitlab', terms: gitlabTerms, credentials: 'gitlab.token', action, status: undefined, message: why, cause });
      }
      const text = await res.text();
      let data: unknown = text;
      try {
        data = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Proxies in front of GitLab answer HTML on 502s; keep the text for the message.
      }
      if (res.status >= 400) {
        throw forgeError({
          forge: 'gitlab',
          terms: gitlabTerms,
          credentials: 'gitlab.token',
          action,
          status: res.status,
          message: messageOf(data),
          // GitLab's rate limits answer 429 with Retry-After ("Rate limits", docs.gitlab.com).
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after') ?? undefined),
        });
      }
      return { status: res.status, data: data as T, headers: res.headers };
    },
  };
}

/** GitLab errors are `{"message": …}` (a string, or an object of field → messages) or `{"error": …}`. */
function messageOf(data: unknown): string | undefined {
  if (typeof data === 'string') return data.slice(0, 200) || undefined;
  if (typeof data !== 'object' || data === null) return undefined;
  const { message, error } = data as { message?: unknown; error?: unknown };
  const value = message ?? error;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value).slice(0, 200);
}

/** GitLab answers 400 "Cannot transition status via :run from :running" to a state set twice. */
export function isAlreadyInState(err: unknown): boolean {
  return err instanceof SlipwayError && err.details?.['status'] === 400 && /Cannot transition status/i.test(err.message);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof SlipwayError && err.details?.['status'] === 404;
}
