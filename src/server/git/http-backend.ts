import { spawn } from 'node:child_process';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { pipeCgiAnswer } from './cgi-head.js';

export interface CgiOptions {
  /** Directory holding the bare repositories (`GIT_PROJECT_ROOT`). */
  projectRoot: string;
  /** `/<repo>.git/<rest>` below the project root. */
  pathInfo: string;
  /** Recorded as `REMOTE_USER` (http-backend enables receive-pack for authenticated users). */
  remoteUser: string;
  /** Extra environment for git and its hooks. */
  env: Record<string, string>;
}

/**
 * Runs `git http-backend` as a CGI script for one request (git's smart HTTP protocol,
 * git-http-backend(1)), streaming the body in and the answer out: packs can be large and must never
 * be held in memory. The CGI's `Status:` header becomes the HTTP status, other headers pass through.
 */
export function runHttpBackend(request: FastifyRequest, reply: FastifyReply, body: Readable | undefined, options: CgiOptions): void {
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const header = (name: string) => String(request.headers[name] ?? '');
  const cgi = spawn('git', ['http-backend'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/',
      ...options.env,
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: options.pathInfo,
      QUERY_STRING: query,
      REQUEST_METHOD: request.method,
      CONTENT_TYPE: header('content-type'),
      ...(request.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
      // git may gzip request bodies; http-backend inflates them itself when told.
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      GIT_PROTOCOL: header('git-protocol'),
      REMOTE_USER: options.remoteUser,
      REMOTE_ADDR: request.ip,
    },
  });
  reply.hijack();
  const res = reply.raw;
  if (body) body.pipe(cgi.stdin);
  else cgi.stdin.end();
  let stderr = '';
  cgi.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 4096)));
  pipeCgiAnswer(cgi.stdout, res);
  cgi.on('error', (err) => {
    request.log.error({ err }, 'git http-backend could not start');
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
  cgi.on('close', (code) => {
    if (code !== 0) request.log.warn({ code, stderr: stderr.trim() }, 'git http-backend failed');
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on('close', () => {
    if (cgi.exitCode === null) cgi.kill();
  });
}
