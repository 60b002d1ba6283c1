import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, basename } from 'node:path';
import { pipeCgiAnswer } from '../../src/server/git/cgi-head.js';

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
  url = '';

  constructor(private readonly bareRepo: string) {}

  async start(): Promise<string> {
    const root = dirname(this.bareRepo);
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
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
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${basename(this.bareRepo)}`;
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
