import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { injectEnforcer } from '../../src/injection/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { BASE_IMAGE, buildAndPush, docker, dockerOk } from '../enforcer/docker.js';
import { freePort } from '../helpers/ports.js';
import { buildApp, buildPlainApp, get, harness, REGISTRY, removeTestContainers, TEST_LABEL, testId, type Harness } from '../targets/helpers.js';

/**
 * Served apps are confined on the local target: no network but loopback (the router reaches them
 * through the enforcer's proxy socket), all capabilities dropped, no-new-privileges. Real containers
 * on the real Engine; the attacks are run from inside a served revision with `docker exec`, against
 * the services this machine really runs on loopback (Redis, the registry) and an HTTP server standing
 * in for Slipway's API. A host-networked revision (the explicit opt-in) shows each attack would work.
 */

const id = testId();
const repo = `slipway-test/isolation-${id}`;
const open: Harness[] = [];
let app: string;
let plain: string;
let api: Server;
let apiPort: number;

/** Deploys and routes all traffic to the new revision. */
async function serve(h: Harness, name: string, image: string) {
  const rev = await h.target.deploy(name, { image });
  await h.target.setTraffic(name, [{ revision: rev.name, percent: 100 }]);
  return rev;
}

async function make(apps: Parameters<typeof harness>[2] = {}): Promise<Harness> {
  const h = await harness(id, {}, apps);
  open.push(h);
  await h.serve();
  return h;
}

/** The one container serving `revision`. */
async function containerOf(revision: string): Promise<string> {
  const ids = (await dockerOk(['ps', '-q', '--filter', `label=${TEST_LABEL}=${id}`, '--filter', `label=dev.slipway.revision=${revision}`]))
    .split('\n')
    .filter(Boolean);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** Runs `script` in the container; busybox nc: exit 0 and the peer's answer when it could connect. */
async function from(container: string, script: string): Promise<{ code: number; out: string }> {
  const r = await docker(['exec', container, 'sh', '-c', script], 30_000);
  return { code: r.code, out: r.stdout + r.stderr };
}

const ATTACKS = {
  redis: `printf 'PING\\r\\n' | nc -w 2 127.0.0.1 6379`,
  registry: `printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 5000`,
  api: (port: number) => `printf 'GET /api/v1/apps HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 ${port}`,
};

beforeAll(async () => {
  app = await buildApp(repo, 'iso');
  plain = await buildPlainApp(repo, 'plain');
  apiPort = await freePort();
  api = createServer((_req, res) => res.end('slipway api'));
  await new Promise<void>((resolve) => api.listen(apiPort, '127.0.0.1', resolve));
}, 180_000);

afterAll(async () => {
  for (const h of open) await h.close().catch(() => undefined);
  await removeTestContainers(id);
  await new Promise((resolve) => api?.close(resolve));
});

describe('revision isolation on the local target', () => {
  it('an isolated revision serves through the router, but cannot reach Redis, the registry or the API on loopback', async () => {
    const h = await make();
    const rev = await serve(h, 'iso', app);
    expect(await get(h.router, 'iso.localhost')).toMatchObject({ status: 200, body: 'iso', revision: rev.name });
    const c = await containerOf(rev.name);
    const redis = await from(c, ATTACKS.redis);
    expect(redis.out).not.toContain('PONG');
    expect(redis.code).not.toBe(0);
    const registry = await from(c, ATTACKS.registry);
    expect(registry.out).not.toContain('HTTP/1');
    expect(registry.code).not.toBe(0);
    const toApi = await from(c, ATTACKS.api(apiPort));
    expect(toApi.out).not.toContain('slipway api');
    expect(toApi.code).not.toBe(0);
    const router = await from(c, ATTACKS.api(Number(h.listen.split(':')[1])));
    expect(router.code).not.toBe(0);
    // ...and the app still serves, through the proxy socket, after the attempts.
    expect(await get(h.router, 'iso.localhost', '/cgi-bin/env')).toMatchObject({ status: 200 });
  });

  it('docker inspect shows NetworkMode none, CapDrop ALL, no-new-privileges, the run directory mounted; the host side is private', async () => {
    const h = await make();
    const rev = await h.target.deploy('inspect', { image: app });
    const info = JSON.parse(await dockerOk(['inspect', await containerOf(rev.name)])) as [
      { HostConfig: Record<string, unknown>; Config: { Env: string[]; Labels: Record<string, string> } },
    ];
    const hc = info[0].HostConfig;
    expect(hc.NetworkMode).toBe('none');
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.CapAdd ?? null).toBeNull();
    expect(hc.SecurityOpt).toEqual(['no-new-privileges']);
    expect(hc.ReadonlyRootfs).toBe(false);
    const socket = info[0].Config.Labels['dev.slipway.socket']!;
    expect(hc.Binds).toEqual([`${dirname(socket)}:/.slipway/run:rw`]);
    expect(info[0].Config.Env).toContain('SLIPWAY_PROXY_SOCKET=/.slipway/run/http.sock');
    expect(statSync(dirname(dirname(socket))).mode & 0o777).toBe(0o700);
    // Its run directory goes with the revision.
    await h.target.setTraffic('inspect', [{ revision: rev.name, percent: 100 }]);
    const next = await h.target.deploy('inspect', { image: app });
    await h.target.setTraffic('inspect', [{ revision: next.name, percent: 100 }]);
    await h.target.deleteRevision('inspect', rev.name);
    expect(() => statSync(dirname(socket))).toThrow(/ENOENT/);
  });

  it('declared capabilities and a read-only root filesystem (with a writable /tmp) are applied', async () => {
    const h = await make({ ro: { network: 'isolated', capabilities: ['NET_BIND_SERVICE'], readOnlyRootFilesystem: true } });
    const rev = await serve(h, 'ro', app);
    expect(await get(h.router, 'ro.localhost')).toMatchObject({ status: 200, body: 'iso' });
    const c = await containerOf(rev.name);
    const hc = (JSON.parse(await dockerOk(['inspect', c])) as [{ HostConfig: Record<string, unknown> }])[0].HostConfig;
    expect(hc).toMatchObject({ CapDrop: ['ALL'], CapAdd: ['CAP_NET_BIND_SERVICE'], ReadonlyRootfs: true, Tmpfs: { '/tmp': expect.stringContaining('rw') } });
    expect((await from(c, 'echo x > /www/planted')).code).not.toBe(0);
    expect((await from(c, 'echo x > /tmp/scratch && cat /tmp/scratch')).out).toBe('x\n');
  });

  it('network: host is an explicit opt-in: it serves an image without the enforcer, and it does reach loopback services', async () => {
    const h = await make({ legacy: { network: 'host', capabilities: [], readOnlyRootFilesystem: false } });
    const rev = await serve(h, 'legacy', plain);
    expect(await get(h.router, 'legacy.localhost')).toMatchObject({ status: 200, body: 'plain' });
    const c = await containerOf(rev.name);
    const hc = (JSON.parse(await dockerOk(['inspect', c])) as [{ HostConfig: Record<string, unknown> }])[0].HostConfig;
    expect(hc).toMatchObject({ NetworkMode: 'host', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] });
    // The same attacks succeed here: what the isolated revision above is protected from.
    expect((await from(c, ATTACKS.redis)).out).toContain('PONG');
    expect((await from(c, ATTACKS.registry)).out).toContain('HTTP/1');
    expect((await from(c, ATTACKS.api(apiPort))).out).toContain('slipway api');
  });

  it('an isolated app whose image lacks the enforcer is refused with what to do', async () => {
    const h = await make();
    const err = await h.target.deploy('bare', { image: plain }).catch((e: unknown) => e);
    expect(isSlipwayError(err) && err.code).toBe('SLW_REVISION_FAILED');
    expect((err as Error).message).toMatch(/does not carry Slipway's enforcer.*network: host/);
  });

  it("readiness is the app's, not the proxy's: a slow starter is ready only once it listens, and its first request succeeds", async () => {
    const tag = `${REGISTRY}/${repo}:slow`;
    await buildAndPush(tag, {
      Dockerfile: `FROM ${BASE_IMAGE}\nCOPY www /www\nCMD ["sh", "-c", "sleep 2; exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
      'www/index.html': 'slow',
    });
    const slow = (await injectEnforcer(new RegistryClient({ host: REGISTRY }), tag, `${tag}-slipway`)).ref;
    const h = await make();
    const started = Date.now();
    await serve(h, 'slow', slow);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(await get(h.router, 'slow.localhost')).toMatchObject({ status: 200, body: 'slow' });
  });
});
