import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { credentialsFromDockerConfig, MediaTypes, RegistryAuth, RegistryClient, sha256Digest } from '../../src/registry/index.js';
import { freePort } from '../helpers/ports.js';
import { pushImage as pushImageWith } from '../helpers/images.js';
import { SHARED_REGISTRY, startRegistry, uniqueRepo, type TestRegistry } from '../helpers/registry.js';

const pushImage = (client: RegistryClient, repo: string, tag = 'v1') => pushImageWith(client, repo, { config: { User: '1000' }, tag });

const expectCode = async (p: Promise<unknown>, code: string, message?: RegExp) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSlipwayError(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
  return err as Error;
};

describe('registry client against the real registry on 127.0.0.1:5000', () => {
  const client = new RegistryClient({ host: SHARED_REGISTRY });

  it('pushes blobs and a manifest, then reads them back by tag and by digest, verified', async () => {
    const repo = uniqueRepo('push');
    const img = await pushImage(client, repo);
    expect(img.digest).toBe(sha256Digest(img.manifest));
    const byTag = await client.getManifest(repo, 'v1');
    expect(byTag).toMatchObject({ digest: img.digest, mediaType: MediaTypes.ociManifest });
    expect(byTag.bytes.equals(img.manifest)).toBe(true);
    expect((await client.getManifest(repo, img.digest)).digest).toBe(img.digest);
    expect(await client.headManifest(repo, 'v1')).toMatchObject({ digest: img.digest, size: img.manifest.length });
    expect(await client.headManifest(repo, 'nope')).toBeUndefined();
    expect((await client.getBlobBytes(repo, img.configDigest)).equals(img.config)).toBe(true);
    expect(await client.listTags(repo)).toEqual(['v1']);
  });

  it('streams a large layer up in chunks and down verified, never needing it whole', async () => {
    const repo = uniqueRepo('chunked');
    const chunks = Array.from({ length: 20 }, () => randomBytes(1024 * 1024)); // 20 MiB: three PATCHes of 8 MiB
    const digest = sha256Digest(Buffer.concat(chunks));
    expect(await client.uploadBlobStream(repo, digest, Readable.from(chunks))).toBe(digest);
    expect(await client.blobExists(repo, digest)).toBe(true);
    let size = 0;
    for await (const c of await client.getBlob(repo, digest, { size: 20 * 1024 * 1024 })) size += (c as Buffer).length;
    expect(size).toBe(20 * 1024 * 1024);
  });

  it('refuses to commit a streamed upload whose bytes are not the promised digest', async () => {
    const repo = uniqueRepo('liar');
    const promised = sha256Digest('something else');
    await expectCode(client.uploadBlobStream(repo, promised, Readable.from([Buffer.from('actual bytes')])), 'SLW_REGISTRY_DIGEST_MISMATCH', /not committed/);
    expect(await client.blobExists(repo, promised)).toBe(false);
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const from = uniqueRepo('mount-from');
    const to = uniqueRepo('mount-to');
    const img = await pushImage(client, from);
    expect(await client.blobExists(to, img.layerDigest)).toBe(false);
    expect(await client.mountBlob(to, img.layerDigest, from)).toBe(true);
    expect(await client.blobExists(to, img.layerDigest)).toBe(true);
    expect(await client.mountBlob(to, sha256Digest('never uploaded'), from)).toBe(false);
  });

  it('finds referrers through the tag schema when the registry has no referrers API', async () => {
    const repo = uniqueRepo('referrers');
    const img = await pushImage(client, repo);
    expect((await client.referrers(repo, img.digest)).manifests).toEqual([]);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [
          { mediaType: MediaTypes.ociManifest, digest: img.digest, size: img.manifest.length, artifactType: 'application/vnd.dev.sigstore.bundle+json' },
          { mediaType: MediaTypes.ociManifest, digest: img.digest, size: img.manifest.length, artifactType: 'application/spdx+json' },
        ],
      }),
    );
    await client.putManifest(repo, img.digest.replace(':', '-'), index, MediaTypes.ociIndex);
    expect((await client.referrers(repo, img.digest)).manifests).toHaveLength(2);
    expect((await client.referrers(repo, img.digest, 'application/spdx+json')).manifests.map((m) => m.artifactType)).toEqual(['application/spdx+json']);
  });

  it('says not found for a manifest that is not there', async () => {
    await expectCode(client.getManifest(uniqueRepo('none'), 'v1'), 'SLW_REGISTRY_NOT_FOUND', /not found/);
  });

  it('says which registry did not answer, as a retryable error', async () => {
    const dead = new RegistryClient({ host: `127.0.0.1:${await freePort()}`, attempts: 2, backoffMs: 10 });
    const err = await expectCode(
      dead.getManifest('a/b', 'v1'),
      'SLW_REGISTRY_UNREACHABLE',
      /registry http:\/\/127\.0\.0\.1:\d+ did not answer GET \/v2\/a\/b\/manifests\/v1/,
    );
    expect((err as unknown as { retryable: boolean }).retryable).toBe(true);
  });
});

describe('registry client through a flaky proxy and a lying server (fault injection in front of the real registry)', () => {
  let proxy: Server;
  let host: string;
  let failures = 0;
  let lie = false;
  beforeAll(async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    // Answers 503 (and once 429 with Retry-After) for the first requests, then forwards to the real registry.
    proxy = createServer((req, res) => {
      if (failures > 0) {
        failures--;
        if (failures === 0) res.writeHead(429, { 'retry-after': '0' }).end();
        else res.writeHead(503).end();
        return;
      }
      const upstream = httpRequest(
        { host: '127.0.0.1', port: Number(SHARED_REGISTRY.split(':')[1]), path: req.url, method: req.method, headers: req.headers },
        (up) => {
          if (lie && req.url?.includes('/manifests/')) {
            res.writeHead(200, { 'content-type': MediaTypes.ociManifest, 'docker-content-digest': up.headers['docker-content-digest'] ?? '' });
            up.resume();
            res.end('{"schemaVersion":2,"tampered":true}');
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => proxy.close(() => r())));

  it('retries 503 and 429 with backoff and then succeeds', async () => {
    const client = new RegistryClient({ host, backoffMs: 5, attempts: 5 });
    const repo = uniqueRepo('flaky');
    await pushImage(new RegistryClient({ host: SHARED_REGISTRY }), repo);
    failures = 3;
    expect((await client.getManifest(repo, 'v1')).mediaType).toBe(MediaTypes.ociManifest);
    expect(failures).toBe(0);
  });

  it('gives up after its attempts with a retryable error', async () => {
    const client = new RegistryClient({ host, backoffMs: 5, attempts: 2 });
    failures = 10;
    await expectCode(client.getManifest(uniqueRepo('flaky'), 'v1'), 'SLW_REGISTRY', /503/);
    failures = 0;
  });

  it('rejects a manifest whose bytes do not match the digest the registry claims', async () => {
    const repo = uniqueRepo('tamper');
    const img = await pushImage(new RegistryClient({ host: SHARED_REGISTRY }), repo);
    lie = true;
    try {
      const client = new RegistryClient({ host });
      await expectCode(client.getManifest(repo, 'v1'), 'SLW_REGISTRY_DIGEST_MISMATCH', new RegExp(`expected ${img.digest}`));
      await expectCode(client.getManifest(repo, img.digest), 'SLW_REGISTRY_DIGEST_MISMATCH');
    } finally {
      lie = false;
    }
  });
});

describe('registry auth (private docker-registry instances on loopback)', () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  beforeAll(async () => {
    [basic, token] = await Promise.all([
      startRegistry({ kind: 'htpasswd', username: 'alice', password: 's3cret' }),
      startRegistry({ kind: 'token', users: { bob: 'hunter2' }, pushers: { bob: ['team/app'] }, refreshTokens: { 'bob-identity-token': 'bob' } }),
    ]);
  });
  afterAll(async () => {
    await basic?.stop();
    await token?.stop();
  });

  it('htpasswd: pushes and pulls with credentials; refuses without, saying what to do', async () => {
    const client = new RegistryClient({ host: basic.host, credentials: { username: 'alice', password: 's3cret' } });
    const img = await pushImage(client, 'team/app');
    expect((await client.getManifest('team/app', 'v1')).digest).toBe(img.digest);
    await expectCode(new RegistryClient({ host: basic.host }).getManifest('team/app', 'v1'), 'SLW_REGISTRY_AUTH', /asks for a user and password/);
    const wrong = await expectCode(
      new RegistryClient({ host: basic.host, credentials: { username: 'alice', password: 'nope' } }).getManifest('team/app', 'v1'),
      'SLW_REGISTRY_AUTH',
    );
    expect(wrong.message).not.toContain('nope');
  });

  it('token: gets a scoped token with credentials, pushes, and pulls anonymously', async () => {
    const bob = new RegistryClient({ host: token.host, credentials: { username: 'bob', password: 'hunter2' } });
    const img = await pushImage(bob, 'team/app');
    const anonymous = new RegistryClient({ host: token.host });
    expect((await anonymous.getManifest('team/app', img.digest)).digest).toBe(img.digest);
  });

  it('token: refuses a push the token service does not grant, and wrong credentials', async () => {
    await expectCode(new RegistryClient({ host: token.host }).uploadBlob('team/app', Buffer.from('x')), 'SLW_REGISTRY_AUTH', /refused/);
    await expectCode(
      new RegistryClient({ host: token.host, credentials: { username: 'bob', password: 'hunter2' } }).uploadBlob('other/repo', Buffer.from('x')),
      'SLW_REGISTRY_AUTH',
    );
    const err = await expectCode(
      new RegistryClient({ host: token.host, credentials: { username: 'bob', password: 'wrong' } }).getManifest('team/app', 'v1'),
      'SLW_REGISTRY_AUTH',
      /registry 127\.0\.0\.1:\d+, repository team\/app \(scope pull\): token service .* refused the credentials \(401\)/,
    );
    expect(err.message).not.toContain('wrong');
  });
});

describe('registry auth: identity tokens, token reuse and bounded failures', () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  beforeAll(async () => {
    [basic, token] = await Promise.all([
      startRegistry({ kind: 'htpasswd', username: 'alice', password: 's3cret' }),
      startRegistry({ kind: 'token', users: { bob: 'hunter2' }, pushers: { bob: ['team/app'] }, refreshTokens: { 'bob-identity-token': 'bob' } }),
    ]);
  });
  afterAll(async () => {
    await basic?.stop();
    await token?.stop();
  });

  it('token: an identity token is exchanged with the OAuth2 refresh_token grant and can push', async () => {
    const client = new RegistryClient({ host: token.host, credentials: { username: '', password: '', identityToken: 'bob-identity-token' } });
    const img = await pushImage(client, 'team/app', 'idtok');
    expect((await client.getManifest('team/app', 'idtok')).digest).toBe(img.digest);
    const wrong = new RegistryClient({ host: token.host, credentials: { username: '', password: '', identityToken: 'not-a-token-we-issued' } });
    const err = await expectCode(wrong.getManifest('team/app', 'idtok'), 'SLW_REGISTRY_AUTH', /refused the identity token \(401\)/);
    expect(err.message).not.toContain('not-a-token-we-issued');
  });

  it('token: one token per repository and scope, reused until it nears expiry', async () => {
    await pushImage(new RegistryClient({ host: token.host, credentials: { username: 'bob', password: 'hunter2' } }), 'team/app', 'reuse');
    const bob = new RegistryClient({ host: token.host, credentials: { username: 'bob', password: 'hunter2' } });
    const before = token.counts();
    for (let i = 0; i < 5; i++) await bob.getManifest('team/app', 'reuse');
    await bob.headManifest('team/app', 'reuse');
    // The first pull is challenged (401), gets a `pull` token and is sent again; the other five reuse the token.
    expect(token.counts().token - before.token).toBe(1);
    expect(token.counts().registry - before.registry).toBe(7);
  });

  it('wrong password fails with SLW_REGISTRY_AUTH after a bounded number of requests, naming where it looked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-wrongpw-'));
    try {
      const auth = new RegistryAuth({
        registries: { [basic.host]: { username: 'alice', passwordEnv: 'REG_PW' } },
        env: { REG_PW: 'wrong-password-123', DOCKER_CONFIG: dir },
      });
      const before = basic.counts().registry;
      const err = await expectCode(new RegistryClient({ host: basic.host, auth }).getManifest('team/app', 'v1'), 'SLW_REGISTRY_AUTH');
      expect(err.message).toContain(`registry ${basic.host}, repository team/app (scope pull)`);
      expect(err.message).toContain(`credentials from registries."${basic.host}" of the configuration`);
      expect(err.message).not.toContain('wrong-password-123');
      // The anonymous try, then one with the credentials: no retries of a refusal.
      expect(basic.counts().registry - before).toBe(2);

      const tokenAuth = new RegistryAuth({
        registries: { [token.host]: { username: 'bob', passwordEnv: 'REG_PW' } },
        env: { REG_PW: 'wrong-password-123', DOCKER_CONFIG: dir },
      });
      const counts = token.counts();
      const refused = await expectCode(new RegistryClient({ host: token.host, auth: tokenAuth }).uploadBlob('team/app', Buffer.from('x')), 'SLW_REGISTRY_AUTH');
      expect(refused.message).toContain('repository team/app (scope pull)');
      expect(token.counts().registry - counts.registry).toBe(1);
      expect(token.counts().token - counts.token).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('anonymous against an authenticated registry says where it looked for credentials', async () => {
    const auth = new RegistryAuth({ env: { DOCKER_CONFIG: join(tmpdir(), 'slipway-no-such-dir') } });
    const err = await expectCode(
      new RegistryClient({ host: basic.host, auth }).getManifest('team/app', 'v1'),
      'SLW_REGISTRY_AUTH',
      /asks for a user and password/,
    );
    expect(err.message).toContain(`no credentials for ${basic.host} in registries of the configuration nor in`);
  });
});

describe('Docker config.json credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-dockercfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (config: unknown) => {
    const path = join(dir, `config-${randomBytes(3).toString('hex')}.json`);
    writeFileSync(path, JSON.stringify(config));
    return path;
  };

  it.each([
    [
      'a base64 auth entry',
      { auths: { '127.0.0.1:5001': { auth: Buffer.from('alice:pa:ss').toString('base64') } } },
      '127.0.0.1:5001',
      { username: 'alice', password: 'pa:ss' },
    ],
    ['username and password', { auths: { 'https://ghcr.io': { username: 'u', password: 'p' } } }, 'ghcr.io', { username: 'u', password: 'p' }],
    [
      "Docker Hub's legacy key",
      { auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('d:h').toString('base64') } } },
      'docker.io',
      { username: 'd', password: 'h' },
    ],
    ['no entry for the host', { auths: {} }, 'example.com', undefined],
  ])('reads %s', async (_n, config, host, expected) => {
    expect(await credentialsFromDockerConfig(write(config), host)).toEqual(expected);
  });

  it('treats a missing file as no credentials', async () => {
    expect(await credentialsFromDockerConfig(join(dir, 'absent.json'), 'x')).toBeUndefined();
  });
});
