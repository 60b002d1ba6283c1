import { SlipwayError } from '../core/errors.js';
import { formatHostPort } from '../core/host-port.js';

/**
 * Where BuildKit listens (config key `buildkit`, docs/architecture.md):
 * - `docker:///var/run/docker.sock` — the BuildKit inside Docker Engine, reached by upgrading
 *   `POST /grpc` on the Engine socket to HTTP/2;
 * - `unix:///run/buildkit/buildkitd.sock` — a standalone buildkitd;
 * - `tcp://host:port` — a standalone buildkitd over TCP; mTLS when the query names the files:
 *   `tcp://host:1234?ca=/etc/bk/ca.pem&cert=/etc/bk/cert.pem&key=/etc/bk/key.pem`.
 */
export type BuildkitAddress =
  | { kind: 'docker'; socket: string; raw: string }
  | { kind: 'unix'; socket: string; raw: string }
  | { kind: 'tcp'; host: string; port: number; tls: TlsFiles | undefined; raw: string };

export interface TlsFiles {
  ca: string;
  cert: string | undefined;
  key: string | undefined;
}

export function parseBuildkitAddress(raw: string): BuildkitAddress {
  const bad = (why: string) =>
    new SlipwayError(
      'SLW_CONFIG_INVALID',
      `buildkit address "${raw}" ${why}; write it as docker:///var/run/docker.sock, unix:///run/buildkit/buildkitd.sock or tcp://host:port`,
    );
  const scheme = /^([a-z]+):\/\//.exec(raw)?.[1];
  if (scheme === 'docker' || scheme === 'unix') {
    const socket = raw.slice(scheme.length + 3);
    if (!socket.startsWith('/')) throw bad('needs an absolute socket path');
    return { kind: scheme, socket, raw };
  }
  if (scheme === 'tcp') {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw bad('is not a URL');
    }
    const port = Number(url.port);
    if (!url.hostname || !Number.isInteger(port) || port <= 0) throw bad('needs a host and a port');
    const ca = url.searchParams.get('ca');
    const tls = ca ? { ca, cert: url.searchParams.get('cert') ?? undefined, key: url.searchParams.get('key') ?? undefined } : undefined;
    return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, tls, raw };
  }
  throw bad('has an unknown scheme');
}

/** The address as said in messages: the socket or host, never query parameters. */
export const describeAddress = (a: BuildkitAddress): string => (a.kind === 'tcp' ? `tcp://${formatHostPort(a)}` : `${a.kind}://${a.socket}`);
