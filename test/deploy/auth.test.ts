import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { makeTar, STATIC_TOKEN, staticTokenConfig, TestIssuer, unsecuredToken } from './helpers.js';

/**
 * Write APIs need a static token or a GitHub Actions OIDC token scoped to the app's repo;
 * reads stay open; uploads are checked before anything is stored. A real server (no worker: the
 * builds only need to be queued here).
 */
describe('API auth and uploads', () => {
  const issuer = new TestIssuer();
  let rt: TestRuntime;
  let context: Buffer;

  beforeAll(async () => {
    await issuer.start();
    rt = await startTestRuntime({
      worker: false,
      config: {
        api: { tokens: staticTokenConfig, oidc: { issuer: issuer.url, audience: 'slipway' }, uploadLimit: '64KiB', uploadUnpackedLimit: '4MiB' },
        apps: [
          { name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } },
          { name: 'other', repo: 'github:octo/other', branches: { main: 'local' } },
        ],
      },
    });
    context = await makeTar([{ name: 'Dockerfile', content: 'FROM scratch\n' }]);
  });
  afterAll(async () => {
    await rt?.stop();
    await issuer.stop();
  });

  const upload = (token: string | undefined, body: Buffer = context, app = 'hello') =>
    fetch(`${rt.url}/api/v1/apps/${app}/builds?ref=refs/heads/main`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body,
    });

  it("accepts a static token and a valid OIDC token for the app's repository, answering 202 with the build", async () => {
    const res = await upload(STATIC_TOKEN);
    expect(res.status).toBe(202);
    const build = (await res.json()) as { id: string; trigger: string; commit: string; state: string; sender: string; target: string };
    expect(build).toMatchObject({ trigger: 'upload', state: 'queued', sender: 'token:ci', target: 'local' });
    expect(build.commit).toMatch(/^[a-f0-9]{64}$/);

    const oidc = await upload(await issuer.token());
    expect(oidc.status).toBe(202);
    // Same bytes, same target: the same build (dedupe as for commits).
    expect(((await oidc.json()) as { id: string }).id).toBe(build.id);
  });

  it.each([
    ['no token', async () => undefined],
    ['an unknown static token', async () => 'not-a-token'],
    ['a wrong audience', async () => issuer.token({ aud: 'someone-else' })],
    ['an expired token', async () => issuer.token({}, { expiresIn: Math.floor(Date.now() / 1000) - 600 })],
    ['a key the issuer does not publish', async () => issuer.token({}, { unknownKey: true })],
    [
      'alg: none',
      async () => unsecuredToken({ iss: issuer.url, aud: 'slipway', repository: 'octo/hello', sub: 'x', exp: Math.floor(Date.now() / 1000) + 300 }),
    ],
  ])('refuses %s with 401 problem+json that echoes nothing', async (_what, make) => {
    const token = await make();
    const res = await upload(token);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'SLW_AUTH_REQUIRED', detail: 'a valid bearer token is required' });
    if (token) expect(text).not.toContain(token);
  });

  it('answers 403 for a valid OIDC token of another repository', async () => {
    const res = await upload(await issuer.token(), context, 'other');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'SLW_AUTH_FORBIDDEN' });
  });

  it('guards every write route under /api/v1, and reads too unless api.publicReads is set', async () => {
    const traffic = await fetch(`${rt.url}/api/v1/apps/hello/traffic`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"traffic":[]}',
    });
    expect(traffic.status).toBe(401);
    expect((await fetch(`${rt.url}/api/v1/builds`)).status).toBe(401);
    expect((await fetch(`${rt.url}/api/v1/apps`)).status).toBe(401);
    const auth = { authorization: `Bearer ${STATIC_TOKEN}` };
    expect((await fetch(`${rt.url}/api/v1/builds`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${rt.url}/api/v1/apps`, { headers: auth })).status).toBe(200);
  });

  it.each([
    [
      'an escaping symlink',
      [
        { name: 'Dockerfile', content: 'FROM scratch\n' },
        { name: 'etc', type: 'symlink' as const, linkname: '../../../etc' },
      ],
      'etc',
    ],
    ['an absolute symlink', [{ name: 'passwd', type: 'symlink' as const, linkname: '/etc/passwd' }], 'passwd'],
    [
      'a chain of links that escapes',
      [
        { name: 'x', type: 'symlink' as const, linkname: '.' },
        { name: 'x/l', type: 'symlink' as const, linkname: '../y' },
      ],
      'x/l',
    ],
    ['a path with ..', [{ name: '../evil', content: 'x' }], '../evil'],
    ['an absolute path', [{ name: '/tmp/evil', content: 'x' }], '/tmp/evil'],
    ['a hard link out of the context', [{ name: 'h', type: 'link' as const, linkname: '../../etc/shadow' }], 'h'],
  ])('refuses a context with %s (400 naming the entry), storing nothing', async (_what, entries, entry) => {
    const res = await upload(STATIC_TOKEN, await makeTar(entries));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'SLW_UPLOAD_INVALID', entry });
  });

  it('refuses a small upload that unpacks past api.uploadUnpackedLimit (a gzip bomb: 413), storing nothing', async () => {
    // 8 MiB of zeros compress to a few KiB: under uploadLimit, far over the unpacked limit.
    const bomb = await makeTar([
      { name: 'Dockerfile', content: 'FROM scratch\n' },
      { name: 'zeros.bin', content: '\0'.repeat(8 * 1024 * 1024) },
    ]);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const uploads = resolve(rt.dir, rt.config.dataDir, 'uploads');
    const before = existsSync(uploads) ? readdirSync(uploads) : [];
    const res = await upload(STATIC_TOKEN, bomb);
    expect(res.status).toBe(413);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe('SLW_UPLOAD_TOO_LARGE');
    expect(body.detail).toContain('api.uploadUnpackedLimit (4194304 bytes)');
    expect(existsSync(uploads) ? readdirSync(uploads) : []).toEqual(before);
  });

  it('refuses uploads over api.uploadLimit (413) and other content types (415)', async () => {
    const big = Buffer.alloc(100 * 1024, 1);
    expect((await upload(STATIC_TOKEN, big)).status).toBe(413);
    const json = await fetch(`${rt.url}/api/v1/apps/hello/builds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${STATIC_TOKEN}` },
      body: '{}',
    });
    expect(json.status).toBe(415);
  });
});
