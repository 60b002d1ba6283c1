import { Agent, request } from 'node:http';
import { SlipwayError } from '../../core/errors.js';
import type { RegistryCredentials } from '../../registry/index.js';

/**
 * A small Docker Engine API client over the unix socket (API 1.41, Docker 20.10: Debian's docker.io),
 * just the calls the local target makes. One keep-alive agent: the hot paths (unpause, start) cost one
 * round trip on an open connection instead of a connect each.
 */

const API = '/v1.41';

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  /** `created` | `running` | `paused` | `restarting` | `removing` | `exited` | `dead`. */
  State: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  memory?: number;
  cpu?: number;
  /** Seconds between SIGTERM and SIGKILL on stop. */
  stopTimeout: number;
  /** Network, capabilities, mounts (isolation.ts). */
  hostConfig: Record<string, unknown>;
}

interface Reply {
  status: number;
  body: Buffer;
}

export class DockerEngine {
  private readonly agent: Agent;

  constructor(readonly socketPath: string) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
  }

  private call(method: string, path: string, body?: unknown, timeoutMs = 120_000, extraHeaders: Record<string, string> = {}): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.agent,
          method,
          path: `${API}${path}`,
          headers: { host: 'docker', ...extraHeaders, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(
          new SlipwayError(
            'SLW_TARGET_UNAVAILABLE',
            `cannot reach the Docker Engine at ${this.socketPath} (${(err as NodeJS.ErrnoException).code ?? err.message}); start it (scripts/setup.sh does) or set targets.<name>.docker`,
            { cause: err },
          ),
        ),
      );
      req.end(payload);
    });
  }

  /** Calls and fails with the Engine's message unless the status is one of `ok`. */
  private async expect(method: string, path: string, ok: number[], body?: unknown): Promise<Reply> {
    const reply = await this.call(method, path, body);
    if (!ok.includes(reply.status)) {
      let message = reply.body.toString().trim();
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new SlipwayError('SLW_TARGET_UNAVAILABLE', `Docker Engine: ${method} ${path.split('?')[0]} answered ${reply.status}: ${message}`, {
        details: { engineStatus: reply.status },
      });
    }
    return reply;
  }

  async ping(): Promise<void> {
    await this.expect('GET', '/_ping', [200]);
  }

  async hasImage(ref: string): Promise<boolean> {
    const reply = await this.call('GET', `/images/${encodeURIComponent(ref)}/json`);
    return reply.status === 200;
  }

  /** The image's labels (it must be present: ensureImage first). */
  async imageLabels(ref: string): Promise<Record<string, string>> {
    const reply = await this.expect('GET', `/images/${encodeURIComponent(ref)}/json`, [200]);
    return (JSON.parse(reply.body.toString()) as { Config?: { Labels?: Record<string, string> | null } }).Config?.Labels ?? {};
  }

  /**
   * Pulls `repo@sha256:…`; the Engine streams progress as JSON lines and reports failure in-band. Credentials
   * go in `X-Registry-Auth` (base64url JSON AuthConfig), over the Engine's unix socket only.
   */
  async pull(image: string, credentials?: RegistryCredentials, serveraddress?: string): Promise<void> {
    const at = image.lastIndexOf('@');
    const query = new URLSearchParams({ fromImage: image.slice(0, at), tag: image.slice(at + 1) });
    const auth = !credentials
      ? {}
      : credentials.identityToken
        ? { identitytoken: credentials.identityToken, serveraddress }
        : { username: credentials.username, password: credentials.password, serveraddress };
    const refused = (message: string) =>
      new SlipwayError(
        'SLW_REGISTRY_AUTH',
        `registry ${serveraddress ?? 'of the image'}, repository ${image.slice(image.indexOf('/') + 1, at)} (scope pull): Docker Engine could not pull ${image} (${message}); ${credentials ? 'check the credentials Slipway has for it and that they may pull' : "Slipway has no credentials for it: add them under registries in slipway.yaml or to Docker's config.json"}`,
      );
    const isRefusal = (message: string) => /\b(unauthorized|authentication required|no basic auth credentials|denied|forbidden)\b/i.test(message);
    const headers = { 'x-registry-auth': Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_') };
    // Padded URL-safe base64 above: the Engine decodes with Go's base64.URLEncoding.
    const reply = await this.call('POST', `/images/create?${query}`, undefined, undefined, headers);
    if (reply.status !== 200) {
      let message = reply.body.toString().trim();
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      if (isRefusal(message)) throw refused(message);
      throw new SlipwayError('SLW_TARGET_UNAVAILABLE', `Docker Engine: POST /images/create answered ${reply.status}: ${message}`, {
        details: { engineStatus: reply.status },
      });
    }
    for (const line of reply.body.toString().split('\n')) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as { error?: string };
      if (!event.error) continue;
      if (isRefusal(event.error)) throw refused(event.error);
      throw new SlipwayError('SLW_TARGET_UNAVAILABLE', `Docker Engine could not pull ${image}: ${event.error}`);
    }
  }

  /**
   * Network and confinement come from `spec.hostConfig` (isolation.ts). `Init` runs docker-init as PID 1
   * so SIGTERM reaches the app (a bare PID 1 ignores signals it has no handler for, and every stop would
   * wait for SIGKILL).
   */
  async create(spec: ContainerSpec): Promise<string> {
    const reply = await this.expect('POST', `/containers/create?name=${encodeURIComponent(spec.name)}`, [201], {
      Image: spec.image,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      StopTimeout: spec.stopTimeout,
      HostConfig: {
        ...spec.hostConfig,
        Init: true,
        ...(spec.memory ? { Memory: spec.memory } : {}),
        ...(spec.cpu ? { NanoCpus: Math.round(spec.cpu * 1e9) } : {}),
      },
    });
    return (JSON.parse(reply.body.toString()) as { Id: string }).Id;
  }

  /** 304 (already in that state) counts as done for every state change. */
  async start(id: string): Promise<void> {
    await this.expect('POST', `/containers/${id}/start`, [204, 304]);
  }

  async pause(id: string): Promise<void> {
    await this.expect('POST', `/containers/${id}/pause`, [204, 304]);
  }

  async unpause(id: string): Promise<void> {
    await this.expect('POST', `/containers/${id}/unpause`, [204, 304]);
  }

  /** SIGTERM, then SIGKILL after `graceSeconds` (the runtime contract's "Lifecycle"). Gone already is fine. */
  async stop(id: string, graceSeconds: number): Promise<void> {
    const reply = await this.call('POST', `/containers/${id}/stop?t=${graceSeconds}`, undefined, (graceSeconds + 30) * 1000);
    if (![204, 304, 404].includes(reply.status))
      throw new SlipwayError('SLW_TARGET_UNAVAILABLE', `Docker Engine: stopping ${id.slice(0, 12)} answered ${reply.status}: ${reply.body.toString().trim()}`);
  }

  async remove(id: string): Promise<void> {
    await this.expect('DELETE', `/containers/${id}?force=true&v=true`, [204, 404]);
  }

  /** The container's state, or undefined when it does not exist. */
  async inspectState(id: string): Promise<{ status: string; exitCode: number } | undefined> {
    const reply = await this.call('GET', `/containers/${id}/json`);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw new SlipwayError('SLW_TARGET_UNAVAILABLE', `Docker Engine: inspecting ${id.slice(0, 12)} answered ${reply.status}`);
    const state = (JSON.parse(reply.body.toString()) as { State: { Status: string; ExitCode: number } }).State;
    return { status: state.Status, exitCode: state.ExitCode };
  }

  /** Containers carrying every label given (any state). */
  async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    const reply = await this.expect('GET', `/containers/json?all=true&filters=${encodeURIComponent(filters)}`, [200]);
    return JSON.parse(reply.body.toString()) as ContainerSummary[];
  }

  /** The container's last lines of output (the Engine multiplexes stdout and stderr in 8-byte-framed chunks). */
  async logs(id: string, tail = 20): Promise<string> {
    const reply = await this.call('GET', `/containers/${id}/logs?stdout=true&stderr=true&tail=${tail}`);
    if (reply.status !== 200) return '';
    const out: Buffer[] = [];
    for (let at = 0; at + 8 <= reply.body.length; ) {
      const size = reply.body.readUInt32BE(at + 4);
      out.push(reply.body.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    return Buffer.concat(out).toString().trim();
  }

  /**
   * Follows a container's stderr (`logs?follow=1`) from `since` (Unix seconds, fractions allowed), with
   * the Engine's timestamp on each line. Lines come to `onLine` without their newline; a line longer
   * than `maxLine` bytes is dropped whole (the tail after the cut would otherwise look like a line of
   * its own). `done` settles when the Engine ends the stream (the container stopped or is gone) or
   * `stop()` was called. Its own connection, no timeout: a paused container is silent for hours, and
   * a long-lived stream must not hold one of the keep-alive agent's sockets the hot paths need.
   */
  followLogs(id: string, since: string, onLine: (at: string, line: string) => void, maxLine: number): { done: Promise<void>; stop(): void } {
    let stopRequest: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          agent: false,
          method: 'GET',
          path: `${API}/containers/${encodeURIComponent(id)}/logs?follow=1&stdout=0&stderr=1&timestamps=1&since=${encodeURIComponent(since)}`,
          headers: { host: 'docker' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', () =>
              reject(
                new SlipwayError('SLW_TARGET_UNAVAILABLE', `Docker Engine: following the logs of ${id.slice(0, 12)} answered ${res.statusCode ?? 0}`, {
                  details: { engineStatus: res.statusCode ?? 0 },
                }),
              ),
            );
            return;
          }
          const lines = new LineSplitter(maxLine, (text) => {
            // `timestamps=1`: RFC 3339 with nanoseconds, a space, the line.
            const space = text.indexOf(' ');
            if (space > 0) onLine(text.slice(0, space), text.slice(space + 1));
          });
          const frames = new FrameDecoder((stream, payload) => {
            if (stream === 2) lines.push(payload);
          });
          res.on('data', (chunk: Buffer) => frames.push(chunk));
          res.on('end', () => resolve());
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        },
      );
      req.on('error', (err) =>
        reject(
          new SlipwayError('SLW_TARGET_UNAVAILABLE', `cannot follow the logs of ${id.slice(0, 12)} (${(err as NodeJS.ErrnoException).code ?? err.message})`, {
            cause: err,
          }),
        ),
      );
      req.end();
      stopRequest = () => {
        req.destroy();
        resolve();
      };
    });
    return { done, stop: () => stopRequest() };
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * The Engine's multiplexed log stream (no TTY): frames of an 8-byte header (stream type, 3 zero
 * bytes, big-endian payload length) and the payload; chunks may split headers and payloads anywhere.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      this.onFrame(buf[0]!, buf.subarray(8, 8 + size));
      buf = buf.subarray(8 + size);
    }
    // Copy: the remainder must not pin the whole chunk it came from.
    this.pending = Buffer.from(buf);
  }
}

/** Bytes → lines; a line over `max` bytes is dropped whole, and memory stays bounded by `max`. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overlong = false;

  constructor(
    private readonly max: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      const nl = data.indexOf(0x0a, at);
      const end = nl < 0 ? data.length : nl;
      if (!this.overlong) {
        if (this.size + (end - at) > this.max) {
          this.overlong = true;
          this.parts = [];
          this.size = 0;
        } else if (end > at) {
          this.parts.push(Buffer.from(data.subarray(at, end)));
          this.size += end - at;
        }
      }
      if (nl < 0) return;
      if (!this.overlong) this.onLine(Buffer.concat(this.parts).toString('utf8'));
      this.parts = [];
      this.size = 0;
      this.overlong = false;
      at = nl + 1;
    }
  }
}
