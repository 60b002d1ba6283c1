import { SlipwayError } from '../core/errors.js';
import type { BuildDetailView, BuildView } from '../server/index.js';

/** The error a CLI command prints: the server's problem detail, or what to check when it cannot be reached. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A small client for Slipway's HTTP API, used by the CLI (and the GitHub Action later). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}${path}`;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        ...init,
        headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(
        `cannot reach the Slipway server at ${this.baseUrl} (${cause}); is it running (slipway up)? Set --server or SLIPWAY_SERVER`,
        undefined,
        undefined,
      );
    }
    if (!res.ok) {
      let detail = `${res.status} ${res.statusText}`;
      let code: string | undefined;
      try {
        const body = (await res.json()) as { detail?: string; code?: string };
        if (body.detail) detail = body.detail;
        code = body.code;
      } catch {
        // not problem+json: keep the status line
      }
      throw new ApiError(detail, res.status, code);
    }
    return res;
  }

  async listBuilds(query: { app?: string | undefined; state?: string | undefined; limit?: number | undefined }): Promise<BuildView[]> {
    const params = new URLSearchParams();
    if (query.app) params.set('app', query.app);
    if (query.state) params.set('state', query.state);
    if (query.limit) params.set('limit', String(query.limit));
    const qs = params.size ? `?${params}` : '';
    const body = (await (await this.request(`/api/v1/builds${qs}`)).json()) as { builds: BuildView[] };
    return body.builds;
  }

  async getBuild(id: string): Promise<BuildDetailView> {
    return (await (await this.request(`/api/v1/builds/${encodeURIComponent(id)}`)).json()) as BuildDetailView;
  }

  async logsText(id: string): Promise<string> {
    return (await this.request(`/api/v1/builds/${encodeURIComponent(id)}/logs`)).text();
  }

  /** Uploads a packed build context: `POST /api/v1/apps/:app/builds`; answers the queued build. */
  async uploadContext(
    app: string,
    archive: Uint8Array,
    query: { target?: string | undefined; ref?: string | undefined; tag?: string | undefined } = {},
  ): Promise<BuildView> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
    const qs = params.size ? `?${params}` : '';
    const res = await this.request(`/api/v1/apps/${encodeURIComponent(app)}/builds${qs}`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip' },
      body: archive,
    });
    return (await res.json()) as BuildView;
  }

  /** Asks for an existing image (by digest) to be promoted through the gates: a build with trigger `image`. */
  async promoteImage(app: string, body: { image: string; target?: string | undefined; tag?: string | undefined }): Promise<BuildView> {
    const res = await this.request(`/api/v1/apps/${encodeURIComponent(app)}/promotions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as BuildView;
  }

  /** Follows a build's log over SSE; calls onLine per line; resolves with the build's final state. */
  async followLogs(id: string, onLine: (line: { ts: string; stage: string | null; level: string; line: string }) => void): Promise<string> {
    const res = await this.request(`/api/v1/builds/${encodeURIComponent(id)}/logs`, { headers: { accept: 'text/event-stream' } });
    if (!res.body) throw new SlipwayError('SLW_UNAVAILABLE', 'the server sent no log stream');
    const decoder = new TextDecoder();
    let buffer = '';
    let finalState = 'unknown';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let split: number;
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        let event = 'message';
        let data = '';
        for (const l of frame.split('\n')) {
          if (l.startsWith('event: ')) event = l.slice(7);
          else if (l.startsWith('data: ')) data += l.slice(6);
        }
        if (!data) continue;
        const parsed = JSON.parse(data) as Record<string, string>;
        if (event === 'log') onLine(parsed as never);
        else if (event === 'state') finalState = parsed.state ?? finalState;
        else if (event === 'end') return parsed.state ?? finalState;
      }
    }
    return finalState;
  }
}
