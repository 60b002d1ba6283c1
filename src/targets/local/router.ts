import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isSlipwayError } from '../../core/errors.js';
import type { Logger } from '../../log/index.js';
import type { Lease, RevisionPool } from './pool.js';

/**
 * The local target's router: an HTTP/1.1 reverse proxy. One job: take a request, ask `resolve` which
 * revision's pool serves its Host, hold a lease on one of its containers for the request's lifetime,
 * and stream both ways. Headers per the runtime contract ("Headers"): the incoming Host is kept, and
 * `Forwarded`, `X-Forwarded-For` and `X-Forwarded-Proto` are set; hop-by-hop headers (RFC 9110 §7.6.1)
 * are not forwarded. Every response carries `X-Slipway-Revision`.
 */

export type Resolution = { kind: 'route'; revision: string; pool: RevisionPool } | { kind: 'unknown-host' } | { kind: 'no-revision'; app: string };

export interface RouterOptions {
  resolve(host: string): Resolution;
  logger: Logger;
  /** A proxy in front sets X-Forwarded-For: append to it. Otherwise the router is the edge and replaces it. */
  trustProxy?: boolean;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const REVISION_HEADER = 'x-slipway-revision';

function problem(res: ServerResponse, status: number, title: string, detail: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ type: `urn:slipway:router:${status}`, title, status, detail });
  res.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra }).end(body);
}

function upstreamHeaders(req: IncomingMessage, host: string, trustProxy: boolean): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
  const named = new Set((req.headers.connection ?? '').split(',').map((h) => h.trim().toLowerCase()));
  for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && !named.has(k)) headers[k] = v;
  const client = req.socket.remoteAddress ?? 'unknown';
  // At the edge a client's own X-Forwarded-For is a claim anyone can make: an app reading the first entry
  // would trust a forged address. Only behind a proxy Slipway was told about is the chain kept.
  const forwardedFor = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
  headers['x-forwarded-proto'] = 'http';
  headers.forwarded = `for=${client.includes(':') ? `"[${client}]"` : client};host=${host};proto=http`;
  return headers;
}

/** Requests that may be sent again when a container refused the connection before anything was sent. */
const replayable = (req: IncomingMessage) =>
  (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') && !req.headers['content-length'] && !req.headers['transfer-encoding'];

export function createRouter(options: RouterOptions): Server {
  const { logger } = options;

  function forward(req: IncomingMessage, res: ServerResponse, lease: Lease, revision: string, pool: RevisionPool, host: string, retried: boolean): void {
    const { instance } = lease;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      lease.release();
    };
    const upstream = request(
      {
        // Isolated containers are reached through their proxy socket (isolation.ts), others on loopback.
        ...(instance.socket ? { socketPath: instance.socket } : { host: '127.0.0.1', port: instance.port }),
        method: req.method,
        path: req.url,
        headers: upstreamHeaders(req, host, options.trustProxy ?? false),
        agent: instance.agent,
        // Apps answer with bare-LF header lines now and then (CGI, small servers); Go's proxies accept
        // them and so does this one. The client still gets headers re-serialized by Node, never raw bytes.
        insecureHTTPParser: true,
      },
      (up) => {
        const headers: string[] = [];
        const raw = up.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
        headers.push('X-Slipway-Revision', revision);
        res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
        up.pipe(res);
        up.once('end', finish);
        up.once('error', () => {
          finish();
          res.destroy();
        });
      },
    );
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      finish();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err.code === 'ECONNREFUSED') pool.fail(instance);
      if (!retried && replayable(req) && (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET')) {
        pool.acquire().then(
          (next) => forward(req, res, next, revision, pool, host, true),
          (e: unknown) => problem(res, 503, 'Revision unavailable', (e as Error).message, { [REVISION_HEADER]: revision }),
        );
        return;
      }
      logger.warn({ err, revision, port: instance.port, socket: instance.socket }, 'upstream request failed');
      problem(res, 502, 'Bad gateway', `revision ${revision} did not answer: ${err.code ?? err.message}`, { [REVISION_HEADER]: revision });
    });
    // The client went away before the answer was complete: stop the upstream request, free the lease.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
      finish();
    });
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    const found = options.resolve(host);
    if (found.kind === 'unknown-host') {
      problem(
        res,
        404,
        'Unknown host',
        `no app is served at host "${host}" on this router; apps are <app>.<domain>, tags <tag>-<app>.<domain> (slipway revisions <app> shows them)`,
      );
      return;
    }
    if (found.kind === 'no-revision') {
      problem(res, 503, 'No ready revision', `app ${found.app} has no ready revision taking traffic; slipway revisions ${found.app} shows its revisions`);
      return;
    }
    const { revision, pool } = found;
    pool.acquire().then(
      (lease) => {
        if (res.destroyed) {
          lease.release();
          return;
        }
        forward(req, res, lease, revision, pool, host, false);
      },
      (err: unknown) => {
        if (!isSlipwayError(err)) logger.error({ err, revision }, 'router: acquiring a container failed');
        problem(res, 503, 'Revision unavailable', (err as Error).message, { [REVISION_HEADER]: revision });
      },
    );
  });
  // Idle client connections beyond the proxy's lifetime would keep close() waiting.
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return server;
}
