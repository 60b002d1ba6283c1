import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { pack, type Header } from 'tar-stream';

export const STATIC_TOKEN = 'slw-test-static-token';
export const staticTokenConfig = [{ name: 'ci', sha256: createHash('sha256').update(STATIC_TOKEN).digest('hex') }];

/**
 * An OIDC issuer on loopback, as GitHub's token service looks to Slipway: discovery document, JWKS
 * with one RSA key, and tokens signed by it (or by a key the JWKS does not have).
 */
export class TestIssuer {
  private server: Server | undefined;
  url = '';
  jwksRequests = 0;
  private keys: Awaited<ReturnType<typeof generateKeyPair>> | undefined;
  private stranger: Awaited<ReturnType<typeof generateKeyPair>> | undefined;

  async start(): Promise<string> {
    this.keys = await generateKeyPair('RS256');
    this.stranger = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(this.keys.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    this.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') return void res.end(JSON.stringify({ issuer: this.url, jwks_uri: `${this.url}/jwks` }));
      if (req.url === '/jwks') {
        this.jwksRequests++;
        return void res.end(JSON.stringify({ keys: [jwk] }));
      }
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** A GitHub Actions-like token; `overrides` replace claims, `options` pick a wrong key or expiry. */
  async token(overrides: JWTPayload = {}, options: { unknownKey?: boolean; expiresIn?: string | number } = {}): Promise<string> {
    const key = options.unknownKey ? this.stranger! : this.keys!;
    return new SignJWT({ repository: 'octo/hello', ref: 'refs/heads/main', ...overrides })
      .setProtectedHeader({ alg: 'RS256', kid: options.unknownKey ? 'key-2' : 'key-1' })
      .setIssuer(this.url)
      .setAudience((overrides.aud as string | undefined) ?? 'slipway')
      .setSubject('repo:octo/hello:ref:refs/heads/main')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(key.privateKey);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** An unsigned token (`alg: none`), which must never verify. */
export function unsecuredToken(payload: JWTPayload): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** A gzip tar made entry by entry, including what `tar` itself would refuse to make. */
export async function makeTar(entries: (Partial<Header> & { name: string; content?: string })[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => archive.on('end', () => r()));
  for (const { content, ...header } of entries) {
    await new Promise<void>((done, fail) => archive.entry({ mode: 0o644, ...header }, Buffer.from(content ?? ''), (err) => (err ? fail(err) : done())));
  }
  archive.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}
