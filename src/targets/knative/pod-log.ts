import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * Follows one container's log through the API server's `pods/log` subresource (`follow=true`,
 * `timestamps=true`), which the API server proxies to the kubelet of the pod's node.
 *
 * Not the client library's `Log` class: it pipes the body into a stream and never reports the end of a
 * follow or a broken connection, and it does not bound line length. Here the request is plain node:https
 * with the kubeconfig's TLS and credentials (`applyToHTTPSOptions`), so the end, errors and the status are
 * seen, and memory per pod stays bounded by `maxLine`.
 */

export class PodLogError extends Error {
  constructor(
    /** HTTP status the API server answered (403: no `get` on pods/log). */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PodLogError';
  }
}

export interface PodLogOptions {
  namespace: string;
  pod: string;
  container: string;
  /** RFC 3339; the kubelet sends lines from this time on (inclusive, to the second). */
  sinceTime?: string | undefined;
  /** Longer lines (timestamp included) are dropped whole. */
  maxLine: number;
  /** The kubelet's timestamp (RFC 3339, nanoseconds) and the line without it. */
  onLine(time: string, line: string): void;
}

export interface PodLogStream {
  /** Resolves when the API server ends the stream (the container stopped), rejects on an error. */
  done: Promise<void>;
  stop(): void;
}

/** A Kubernetes `Status` body's message, cut short; never the request's headers. */
function statusMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 300) || 'no message';
}

/** Splits a byte stream into lines, dropping any line longer than `max` whole (it is never buffered). */
function lineSplitter(max: number, onLine: (line: string) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let size = 0;
  let dropping = false;
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (!dropping && size + piece.length <= max) onLine(Buffer.concat([...parts, piece]).toString('utf8'));
      parts = [];
      size = 0;
      dropping = false;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (dropping || rest.length === 0) return;
    if (size + rest.length > max) {
      dropping = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(Buffer.from(rest));
    size += rest.length;
  };
}

export async function followPodLog(kc: KubeConfig, o: PodLogOptions): Promise<PodLogStream> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new PodLogError(0, 'the kubeconfig has no current cluster');
  const url = new URL(`${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods/${encodeURIComponent(o.pod)}/log`);
  url.searchParams.set('container', o.container);
  url.searchParams.set('follow', 'true');
  url.searchParams.set('timestamps', 'true');
  if (o.sinceTime !== undefined) url.searchParams.set('sinceTime', o.sinceTime);
  const opts: RequestOptions & Record<string, unknown> = { method: 'GET', headers: { accept: '*/*' } };
  await kc.applyToHTTPSOptions(opts as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
  const secure = url.protocol === 'https:';
  if (!secure) delete opts.agent;

  let stopped = false;
  let stop: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, opts, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 4096) text += c;
        });
        res.on('end', () =>
          reject(new PodLogError(res.statusCode ?? 0, `pods/log of ${o.namespace}/${o.pod} answered ${res.statusCode} (${statusMessage(text)})`)),
        );
        res.on('error', (err) => reject(err));
        return;
      }
      const split = lineSplitter(o.maxLine, (line) => {
        const space = line.indexOf(' ');
        if (space > 0) o.onLine(line.slice(0, space), line.slice(space + 1));
      });
      res.on('data', split);
      res.on('end', () => resolve());
      res.on('error', (err) => (stopped ? resolve() : reject(err)));
      // After 'end' this changes nothing (settled); without it, the connection was cut.
      res.on('close', () => (stopped ? resolve() : reject(new Error('the log stream was cut'))));
    });
    req.on('error', (err) => (stopped ? resolve() : reject(err)));
    req.end();
    stop = () => {
      stopped = true;
      req.destroy();
      resolve();
    };
  });
  return { done, stop: () => stop() };
}
