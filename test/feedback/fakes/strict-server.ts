import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The frame of a strict fake REST API (STYLE.md rule 11: a fake only where nothing real can run here —
 * GitHub and GitLab cannot be reached — strict, and named as a fake). It listens on 127.0.0.1 only.
 * Every request must match a declared route (method + path) and pass its auth and body checks;
 * anything else is recorded in `violations` (tests assert it stays empty) and answered as the real API
 * would answer a bad request, so the client's error handling is exercised as well.
 */

export interface FakeRequest {
  method: string;
  /** Path without the query, exactly as sent (percent-encoding kept). */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
  params: string[];
  /** When the request arrived (ms since the epoch). */
  at: number;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** Matched against the raw path; capture groups become `params`. */
  path: RegExp;
  handle(req: FakeRequest): FakeResponse;
}

/** A response the test forces before routing (outages, rate limits); return undefined to route normally. */
export type Interceptor = (req: FakeRequest) => FakeResponse | undefined;

export class RequestViolation extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface StrictServer {
  url: string;
  port: number;
  calls: FakeRequest[];
  violations: string[];
  intercept: Interceptor | undefined;
  close(): Promise<void>;
}

export async function startStrictServer(options: {
  name: string;
  routes: Route[];
  /** Throws RequestViolation when the request's credentials are wrong. */
  authenticate(req: FakeRequest): void;
  /** Shape of the API's error bodies. */
  errorBody(status: number, message: string): unknown;
}): Promise<StrictServer> {
  const state: StrictServer = { url: '', port: 0, calls: [], violations: [], intercept: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, Buffer.concat(chunks), res));
  });

  function send(res: ServerResponse, r: FakeResponse): void {
    const text = r.body === undefined ? '' : JSON.stringify(r.body);
    res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...(r.headers ?? {}) });
    res.end(text);
  }

  function answer(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    let body: Record<string, unknown> | undefined;
    const fail = (status: number, message: string) => {
      state.violations.push(`${req.method} ${req.url}: ${message}`);
      send(res, { status, body: options.errorBody(status, message) });
    };
    if (raw.length > 0) {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return fail(415, `body sent as ${String(req.headers['content-type'])}, not JSON`);
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 'body is not JSON');
      }
    }
    const fr: FakeRequest = { method: req.method ?? '', path: rawPath, query: url.searchParams, headers: req.headers, body, params: [], at: Date.now() };
    state.calls.push(fr);
    try {
      const forced = state.intercept?.(fr);
      if (forced !== undefined) return send(res, forced);
      options.authenticate(fr);
      for (const route of options.routes) {
        if (route.method !== fr.method) continue;
        const m = route.path.exec(rawPath);
        if (m === null) continue;
        fr.params = m.slice(1);
        return send(res, route.handle(fr));
      }
      return fail(404, `${options.name} has no route ${fr.method} ${rawPath}`);
    } catch (err) {
      if (err instanceof RequestViolation) {
        // 404s for things that do not exist are answers, not violations of the API contract.
        if (err.status === 404) return send(res, { status: 404, body: options.errorBody(404, err.message) });
        return fail(err.status, err.message);
      }
      return fail(500, `fake crashed: ${(err as Error).stack ?? String(err)}`);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.port = port;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Body checks: each returns the value or throws a 422 violation naming the field. */
export const need = {
  string(body: Record<string, unknown> | undefined, field: string): string {
    const v = body?.[field];
    if (typeof v !== 'string' || v === '') throw new RequestViolation(422, `"${field}" must be a non-empty string (got ${JSON.stringify(v)})`);
    return v;
  },
  oneOf<T extends string>(body: Record<string, unknown> | undefined, field: string, values: readonly T[]): T {
    const v = body?.[field];
    if (!values.includes(v as T)) throw new RequestViolation(422, `"${field}" must be one of ${values.join(', ')} (got ${JSON.stringify(v)})`);
    return v as T;
  },
  boolean(body: Record<string, unknown> | undefined, field: string): boolean {
    const v = body?.[field];
    if (typeof v !== 'boolean') throw new RequestViolation(422, `"${field}" must be a boolean (got ${JSON.stringify(v)})`);
    return v;
  },
  optionalString(body: Record<string, unknown> | undefined, field: string, max?: number): string | undefined {
    const v = body?.[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new RequestViolation(422, `"${field}" must be a string`);
    if (max !== undefined && v.length > max) throw new RequestViolation(422, `"${field}" is longer than ${max} characters`);
    return v;
  },
  url(body: Record<string, unknown> | undefined, field: string): string {
    const v = need.string(body, field);
    if (!/^https?:\/\//.test(v)) throw new RequestViolation(422, `"${field}" must be an http(s) URL (got ${v})`);
    return v;
  },
  only(body: Record<string, unknown> | undefined, allowed: readonly string[]): void {
    for (const key of Object.keys(body ?? {})) if (!allowed.includes(key)) throw new RequestViolation(422, `unexpected field "${key}"`);
  },
};

export const SHA_RE = /^[0-9a-f]{40}$/;
export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
