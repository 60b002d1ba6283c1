import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../log/index.js';
import type { RegistryCredentials } from './credentials.js';
import { parseChallenge, type Challenge } from './www-authenticate.js';

export interface RegistryTransportOptions {
  /** `127.0.0.1:5000`, `ghcr.io`. */
  host: string;
  /** Plain HTTP. Default: true for loopback hosts (as Docker treats 127.0.0.0/8 as insecure), else false. */
  insecure?: boolean;
  credentials?: RegistryCredentials | undefined;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  /** Tries for 429, 5xx and connection failures on requests that can be re-sent. Default 4. */
  attempts?: number;
  /** First retry delay, doubled each try (or the server's Retry-After). Default 200 ms. */
  backoffMs?: number;
  logger?: Logger | undefined;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path from the registry root (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  /** Token scopes this request needs: `repository:slipway/hello:pull,push`. */
  scopes: string[];
  headers?: Record<string, string>;
  /** A Buffer is re-sent on retry; a stream is sent once. */
  body?: Buffer | ReadableStream<Uint8Array> | undefined;
  /** Statuses that are answers, not errors (others throw). */
  ok: number[];
  signal?: AbortSignal | undefined;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

interface CachedToken {
  value: string;
  expires: number;
}

/**
 * HTTP to one registry: the token flow (`WWW-Authenticate: Bearer realm,service,scope` → token → retry,
 * tokens cached per scope until shortly before they expire), basic auth, timeouts on every request, and
 * retries with backoff for 429/5xx and connection failures. Credentials never reach a log or an error.
 */
export class RegistryTransport {
  readonly baseUrl: string;
  private readonly tokens = new Map<string, CachedToken>();
  private basic = false;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: RegistryTransportOptions) {
    const insecure = options.insecure ?? LOOPBACK.test(options.host);
    this.baseUrl = `${insecure ? 'http' : 'https'}://${options.host}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 200;
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`;
  }

  async request(req: RegistryRequest): Promise<Response> {
    const replayable = !(req.body instanceof ReadableStream);
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.url(req.path), {
          method: req.method,
          headers: { ...req.headers, ...this.authorization(req.scopes) },
          body: req.body ?? null,
          redirect: 'follow',
          signal: req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
          ...(req.body instanceof ReadableStream ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (err) {
        if (req.signal?.aborted) throw err;
        if (replayable && attempt < this.attempts) {
          await this.sleep(attempt, undefined, req.signal);
          continue;
        }
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        throw new SlipwayError(
          'SLW_REGISTRY_UNREACHABLE',
          `registry ${this.baseUrl} did not answer ${req.method} ${this.describe(req.path)} (${cause}); is it running and reachable?`,
          { cause: err },
        );
      }
      if (res.status === 401 && !authRetried && replayable) {
        authRetried = true;
        await res.body?.cancel();
        await this.authenticate(parseChallenge(res.headers.get('www-authenticate')), req.scopes, req.signal);
        attempt--;
        continue;
      }
      if (RETRY_STATUSES.has(res.status) && replayable && attempt < this.attempts) {
        await res.body?.cancel();
        await this.sleep(attempt, res.headers.get('retry-after'), req.signal);
        continue;
      }
      if (req.ok.includes(res.status)) return res;
      throw await this.errorFor(req, res);
    }
  }

  private authorization(scopes: string[]): Record<string, string> {
    const token = this.tokens.get(scopes.join(' '));
    if (token && token.expires > Date.now()) return { authorization: `Bearer ${token.value}` };
    if (this.basic && this.options.credentials) {
      const { username, password } = this.options.credentials;
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    return {};
  }

  private async authenticate(challenge: Challenge | undefined, scopes: string[], signal?: AbortSignal): Promise<void> {
    if (challenge?.scheme === 'basic') {
      if (!this.options.credentials)
        throw new SlipwayError(
          'SLW_REGISTRY_AUTH',
          `registry ${this.options.host} asks for a user and password; add an auths entry for it to the Docker config Slipway reads`,
        );
      this.basic = true;
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new SlipwayError('SLW_REGISTRY_AUTH', `registry ${this.options.host} refused the request without saying how to authenticate`);
    }
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (this.options.credentials) {
      const { username, password } = this.options.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await fetch(url, {
        headers,
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SlipwayError('SLW_REGISTRY_UNREACHABLE', `token service ${url.origin} for registry ${this.options.host} did not answer`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new SlipwayError(
        'SLW_REGISTRY_AUTH',
        `token service ${url.origin} refused ${this.options.credentials ? 'the configured credentials' : 'anonymous access'} for ${scopes.join(' ')} (${res.status}); check the registry credentials`,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const value = body.token ?? body.access_token;
    if (!value) throw new SlipwayError('SLW_REGISTRY_AUTH', `token service ${url.origin} answered without a token`);
    // Renew 10 s early so a token never expires between the check and the request (spec default: 60 s).
    const lifetime = Math.max((body.expires_in ?? 60) - 10, 1) * 1000;
    this.tokens.set(scopes.join(' '), { value, expires: Date.now() + lifetime });
  }

  private async sleep(attempt: number, retryAfter: string | null | undefined, signal?: AbortSignal): Promise<void> {
    const seconds = retryAfter ? Number(retryAfter) : NaN;
    const ms = Number.isFinite(seconds) ? Math.min(seconds * 1000, 30_000) : this.backoffMs * 2 ** (attempt - 1);
    this.options.logger?.debug({ attempt, ms }, 'registry request retry');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** The path without query strings: upload URLs carry state (and some registries put tokens there). */
  private describe(path: string): string {
    return this.url(path).split('?')[0]!.replace(this.baseUrl, '');
  }

  private async errorFor(req: RegistryRequest, res: Response): Promise<SlipwayError> {
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      detail = (body.errors ?? []).map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
    } catch {
      // no OCI error body
    }
    const what = `${req.method} ${this.describe(req.path)} on ${this.options.host}`;
    if (res.status === 401 || res.status === 403) {
      return new SlipwayError(
        'SLW_REGISTRY_AUTH',
        `${what} was refused (${res.status}${detail ? `, ${detail}` : ''}); check the registry credentials and their permissions`,
      );
    }
    if (res.status === 404) return new SlipwayError('SLW_REGISTRY_NOT_FOUND', `${what}: not found${detail ? ` (${detail})` : ''}`);
    // 5xx and 429 may pass (retryable); any other answer is the registry saying no to this request.
    const code = res.status >= 500 || res.status === 429 ? 'SLW_REGISTRY' : 'SLW_REGISTRY_REJECTED';
    return new SlipwayError(code, `${what} failed with ${res.status}${detail ? `: ${detail}` : ''}`);
  }
}
