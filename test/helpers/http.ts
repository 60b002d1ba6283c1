import { request, type Agent } from 'node:http';

export interface HostReply {
  status: number;
  body: string;
  /** `X-Slipway-Revision`: which revision answered (the router sets it). */
  revision: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One GET to `base` + `path` with the given Host header. node:http, not fetch: fetch does not let a
 * caller set Host, and Slipway's router routes by it (`<app>.<domain>`, `<tag>-<app>.<domain>`).
 */
export function getWithHost(base: string, host: string, path = '/', agent?: Agent): Promise<HostReply> {
  const url = new URL(base);
  return new Promise((resolvePromise, reject) => {
    request({ host: url.hostname, port: Number(url.port), path, headers: { host }, ...(agent ? { agent } : {}) }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (body += c))
        .on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, body, revision: res.headers['x-slipway-revision'] as string | undefined, headers: res.headers }),
        );
    })
      .on('error', reject)
      .end();
  });
}
