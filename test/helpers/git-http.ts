import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, relative } from 'node:path';
import { pipeCgiAnswer } from '../../src/server/git/cgi-head.js';

export interface GitHttpOptions {
  /** Serve repositories under this directory (URL paths are relative to it). Default: the repository's parent. */
  root?: string;
  /**
   * HTTP Basic auth, as a forge in front of a private repository: a request whose credentials this
   * refuses gets 401 (`WWW-Authenticate: Basic`), or 404 when `hideAs404` (GitHub's answer for a
   * private repository the credential cannot see).
   */
  auth?: (user: string, password: string) => boolean;
  hideAs404?: boolean;
}

/**
 * A real git smart-HTTP server (`git http-backend` as CGI) on loopback, with a gate: while closed,
 * upload-pack requests (the part of a fetch that sends objects) wait. Tests use it to hold a build
 * in its fetch stage for as long as they need — a slow remote, not a fake one.
 */
export class GitHttpServer {
  private server: Server | undefined;
  private open = true;
  private waiters: (() => void)[] = [];
  /** Upload-pack requests seen (a fetch makes one or more). */
  uploadPacks = 0;
  /** Every request, with the Authorization header it carried (what reached the server, for tests to judge). */
  requests: { path: string; authorization: string | undefined; allowed: boolean }[] = [];
  url = '';
  /** http://127.0.0.1:PORT: what `<forge>.gitUrl` is set to when repositories sit under `root` as owner/name.git. */
  base = '';

  constructor(
    private readonly bareRepo: string,
    private readonly options: GitHttpOptions = {},
  ) {}

  async start(): Promise<string> {
    const root = this.options.root ?? dirname(this.bareRepo);
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (this.options.auth) {
        const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
        const pair = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
        const i = pair.indexOf(':');
        const allowed = m !== null && i > 0 && this.options.auth(pair.slice(0, i), pair.slice(i + 1));
        this.requests.push({ path: u.pathname, authorization: req.headers.authorization, allowed });
        if (!allowed) {
          req.resume();
          if (this.options.hideAs404) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Repository not found.\n');
          return void res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' }).end('Unauthorized\n');
        }
      } else this.requests.push({ path: u.pathname, authorization: req.headers.authorization, allowed: true });
      const proceed = () => {
        const cgi = spawn('git', ['http-backend'], {
          env: {
            ...process.env,
            GIT_PROJECT_ROOT: root,
            GIT_HTTP_EXPORT_ALL: '1',
            PATH_INFO: u.pathname,
            QUERY_STRING: u.search.slice(1),
            REQUEST_METHOD: req.method ?? 'GET',
            CONTENT_TYPE: req.headers['content-type'] ?? '',
            GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
            REMOTE_ADDR: '127.0.0.1',
          },
        });
        req.pipe(cgi.stdin);
        pipeCgiAnswer(cgi.stdout, res);
        cgi.on('close', () => res.end());
        res.on('close', () => cgi.kill());
      };
      if (u.pathname.endsWith('/git-upload-pack')) {
        this.uploadPacks++;
        if (!this.open) return void this.waiters.push(proceed);
      }
      proceed();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.url = `${this.base}/${relative(root, this.bareRepo)}`;
    return this.url;
  }

  /** Holds upload-pack requests until release(). */
  hold(): void {
    this.open = false;
  }

  release(): void {
    this.open = true;
    for (const w of this.waiters.splice(0)) w();
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
