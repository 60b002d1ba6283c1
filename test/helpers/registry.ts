import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseImageRef, RegistryClient } from '../../src/registry/index.js';
import { freePort } from './ports.js';
import { BASE_IMAGE } from './runtime.js';

/** The registry scripts/lib/services.sh runs for every suite (Debian's docker-registry). */
export const SHARED_REGISTRY = (process.env.SLIPWAY_TEST_REGISTRY ?? 'http://127.0.0.1:5000').replace(/^https?:\/\//, '');

export const uniqueRepo = (name: string): string => `slipway-test/${name}-${randomBytes(4).toString('hex')}`;

export interface TestRegistry {
  host: string;
  /** Requests the registry (through a counting proxy in front of it) and its token service received so far. */
  counts(): { registry: number; token: number };
  stop(): Promise<void>;
}

export type RegistryAuth =
  | { kind: 'htpasswd'; username: string; password: string }
  | {
      kind: 'token';
      users: Record<string, string>;
      /** repositories each user may push to; others are pull-only */
      pushers?: Record<string, string[]>;
      /** identity (refresh) tokens → user, for the OAuth2 `grant_type=refresh_token` POST */
      refreshTokens?: Record<string, string>;
    };

/**
 * A private instance of Debian's docker-registry on a loopback port, with htpasswd basic auth or token
 * auth. For token auth the test also runs the token service: it signs ES256 JWTs whose x5c chain is a
 * self-signed certificate the registry trusts (distribution's token auth, "rootcertbundle").
 */
export async function startRegistry(auth: RegistryAuth): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-registry-'));
  const [port, proxyPort] = await Promise.all([freePort(), freePort()]);
  const inner = `127.0.0.1:${port}`;
  const host = `127.0.0.1:${proxyPort}`;
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error' },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: inner, secret: 'test' },
  };
  let tokenServer: Server | undefined;
  let requests: { scope: string[]; user: string | undefined }[] = [];
  let tokenCalls = 0;
  let registryCalls = 0;
  if (auth.kind === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', auth.username, auth.password]));
    config.auth = { htpasswd: { realm: 'slipway-test', path: join(dir, 'htpasswd') } };
  } else {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=slipway-test-token',
      ],
      { stdio: 'ignore' },
    );
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    const certDer = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw.toString('base64');
    const tokenPort = await freePort();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const answer = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, form: URLSearchParams | undefined) => {
      tokenCalls++;
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${tokenPort}`);
      let user: string | undefined;
      let scopes: string[];
      if (form) {
        // OAuth2 (distribution spec/auth/oauth.md): only the refresh_token grant is served here.
        const refresh = form.get('grant_type') === 'refresh_token' ? form.get('refresh_token') : null;
        user = refresh ? auth.refreshTokens?.[refresh] : undefined;
        if (user === undefined || !form.get('client_id')) {
          res.writeHead(401).end('{"details":"bad refresh token"}');
          return;
        }
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        url.searchParams.set('service', form.get('service') ?? '');
      } else {
        const basic = req.headers.authorization?.startsWith('Basic ') ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString() : undefined;
        const [u, password] = basic ? [basic.slice(0, basic.indexOf(':')), basic.slice(basic.indexOf(':') + 1)] : [undefined, undefined];
        if (u !== undefined && auth.users[u] !== password) {
          res.writeHead(401).end('{"details":"bad credentials"}');
          return;
        }
        user = u;
        scopes = url.searchParams.getAll('scope');
      }
      requests.push({ scope: scopes, user });
      const access = scopes.map((scope) => {
        const [type, name, actions] = scope.split(':') as [string, string, string];
        const allowed = actions.split(',').filter((a) => a === 'pull' || (user !== undefined && (auth.pushers?.[user] ?? [name]).includes(name)));
        return { type, name, actions: user === undefined ? allowed.filter((a) => a === 'pull') : allowed };
      });
      const now = Math.floor(Date.now() / 1000);
      const header = b64({ alg: 'ES256', typ: 'JWT', x5c: [certDer] });
      const claims = b64({
        iss: 'slipway-test-issuer',
        sub: user ?? '',
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      });
      const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      const token = `${header}.${claims}.${signature}`;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(form ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 }));
    };
    tokenServer = createServer((req, res) => {
      if (req.method !== 'POST') return answer(req, res, undefined);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => answer(req, res, new URLSearchParams(body)));
    });
    await new Promise<void>((r) => tokenServer!.listen(tokenPort, '127.0.0.1', r));
    config.auth = {
      token: {
        realm: `http://127.0.0.1:${tokenPort}/token`,
        service: 'slipway-test-registry',
        issuer: 'slipway-test-issuer',
        rootcertbundle: join(dir, 'cert.pem'),
      },
    };
  }
  const file = join(dir, 'config.yml');
  writeFileSync(file, stringify(config));
  const child: ChildProcess = spawn('docker-registry', ['serve', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  // A counting proxy in front: tests assert how many requests a client made (no retry storm).
  const proxy = createServer((req, res) => {
    registryCalls++;
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://${inner}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not start on ${host}:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  void requests;
  return {
    host,
    counts: () => ({ registry: registryCalls, token: tokenCalls }),
    async stop() {
      child.kill('SIGTERM');
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
      tokenServer?.closeAllConnections();
      await new Promise<void>((r) => (tokenServer ? tokenServer.close(() => r()) : r()));
      rmSync(dir, { recursive: true, force: true });
      requests = [];
    },
  };
}

/** Copies the shared busybox base image into a private registry (manifest, config and layers, verified). */
export async function copyBase(to: RegistryClient, repo: string): Promise<string> {
  const from = parseImageRef(BASE_IMAGE);
  const source = new RegistryClient({ host: from.registry });
  const manifest = await source.getManifest(from.repository, from.tag ?? 'latest');
  const json = manifest.json as { config: { digest: string }; layers: { digest: string }[] };
  for (const blob of [json.config, ...json.layers]) await to.uploadBlob(repo, await source.getBlobBytes(from.repository, blob.digest));
  await to.putManifest(repo, 'latest', manifest.bytes, manifest.mediaType);
  return `${to.host}/${repo}:latest`;
}
