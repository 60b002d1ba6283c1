import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../log/index.js';
import type { CredentialSource } from './auth.js';
import type { RegistryCredentials } from './credentials.js';
import { parseChallenge, type Challenge } from './www-authenticate.js';

export interface RegistryTransportOptions {
  /** `127.0.0.1:5000`, `ghcr.io`. */
  host: string;
  /** Plain HTTP. Default: true for loopback hosts (as Docker treats 127.0.0.0/8 as insecure), else false. */
  insecure?: boolean;
  /** Fixed credentials (tests, one-off clients); `auth` looks them up per host instead. */
  credentials?: RegistryCredentials | undefined;
  /** The resolver (RegistryAuth): asked once, on the first challenge, and named in SLW_REGISTRY_AUTH messages. */
  auth?: CredentialSource | undefined;
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

/** `repository:team/app:pull,push` → repository and actions, for messages. */
function describeScopes(scopes: string[]): string {
  const parts = scopes.map((scope) => {
    const m = /^repository:(.+):([a-z*,]+)$/.exec(scope);
    return m ? `repository ${m[1]} (scope ${m[2]})` : `scope ${scope}`;
  });
  return parts.length ? parts.join(', ') : 'the registry root';
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
  private credentialsFound: Promise<RegistryCredentials | undefined> | undefined;
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
          headers: { ...req.headers, ...(await this.authorization(req.scopes)) },
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

  /** The credentials for this host: the fixed ones, else the resolver's answer (asked once). */
  private credentials(): Promise<RegistryCredentials | undefined> {
    if (this.options.credentials) return Promise.resolve(this.options.credentials);
    if (!this.options.auth) return Promise.resolve(undefined);
    this.credentialsFound ??= this.options.auth.credentialsFor(this.options.host);
    return this.credentialsFound;
  }

  /** Where credentials came from or were looked for (never their value). */
  private where(): string {
    if (this.options.credentials) return 'credentials given to this client';
    if (this.options.auth) return this.options.auth.describe(this.options.host);
    return 'no credential source given';
  }

  private authFailure(message: string, scopes: string[]): SlipwayError {
    return new SlipwayError('SLW_REGISTRY_AUTH', `registry ${this.options.host}, ${describeScopes(scopes)}: ${message} (${this.where()})`);
  }

  private async authorization(scopes: string[]): Promise<Record<string, string>> {
    const token = this.tokens.get(scopes.join(' '));
    if (token && token.expires > Date.now()) return { authorization: `Bearer ${token.value}` };
    const credentials = this.basic ? await this.credentials() : undefined;
    if (credentials && !credentials.identityToken) {
      const { username, password } = credentials;
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    return {};
  }

  private async authenticate(challenge: Challenge | undefined, scopes: string[], signal?: AbortSignal): Promise<void> {
    const credentials = await this.credentials();
    if (challenge?.scheme === 'basic') {
      if (!credentials || credentials.identityToken)
        throw this.authFailure(
          'the registry asks for a user and password; add them under registries in slipway.yaml, or log in with docker login as the user Slipway runs as',
          scopes,
        );
      this.basic = true;
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw this.authFailure('the registry refused the request without saying how to authenticate', scopes);
    }
    const url = new URL(challenge.params.realm);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw this.authFailure(`the token realm ${url.protocol} is not http(s)`, scopes);
    // Credentials are sent to the realm only over https, or plain http on loopback (a registry there is trusted).
    if (credentials && url.protocol === 'http:' && !LOOPBACK.test(url.host) && !this.options.insecure) {
      throw this.authFailure(`the token realm ${url.origin} is plain http; Slipway sends credentials only over https`, scopes);
    }
    const service = challenge.params.service;
    let res: Response;
    const timeout = signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
    try {
      if (credentials?.identityToken) {
        // OAuth2 refresh-token grant (distribution's spec/auth/oauth.md): the identity token never goes in a URL.
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'slipway' });
        if (service) form.set('service', service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form, signal: timeout });
      } else {
        if (service) url.searchParams.set('service', service);
        for (const scope of scopes) url.searchParams.append('scope', scope);
        const headers: Record<string, string> = {};
        if (credentials) headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
        res = await fetch(url, { headers, signal: timeout });
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new SlipwayError('SLW_REGISTRY_UNREACHABLE', `token service ${url.origin} for registry ${this.options.host} did not answer`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel();
      const what = credentials?.identityToken ? 'the identity token' : credentials ? 'the credentials' : 'anonymous access';
      throw this.authFailure(`token service ${url.origin} refused ${what} (${res.status}); check the user, password or token and its rights`, scopes);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw this.authFailure(`token service ${url.origin} answered with something that is not JSON`, scopes);
    }
    const value = typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (!value) throw this.authFailure(`token service ${url.origin} answered without a token`, scopes);
    // Renew 10 s early so a token never expires between the check and the request (spec default: 60 s).
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    const lifetime = Math.max(expiresIn - 10, 1) * 1000;
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
      return this.authFailure(
        `${req.method} ${this.describe(req.path)} was refused (${res.status}${detail ? `, ${detail}` : ''}); check the credentials and that they may ${req.scopes.some((s) => s.endsWith(',push')) ? 'push' : 'pull'}`,
        req.scopes,
      );
    }
    if (res.status === 404) return new SlipwayError('SLW_REGISTRY_NOT_FOUND', `${what}: not found${detail ? ` (${detail})` : ''}`);
    // 5xx and 429 may pass (retryable); any other answer is the registry saying no to this request.
    const code = res.status >= 500 || res.status === 429 ? 'SLW_REGISTRY' : 'SLW_REGISTRY_REJECTED';
    return new SlipwayError(code, `${what} failed with ${res.status}${detail ? `: ${detail}` : ''}`);
  }
}
