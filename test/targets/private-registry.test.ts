import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { logsAfter } from '../../src/store/index.js';
import { DockerEngine } from '../../src/targets/local/docker.js';
import { TestRepo } from '../helpers/git.js';
import { getWithHost } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { copyBase, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { API_AUTH, buildEnded, deliverGithub, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';

const HELPER_BIN = resolve(import.meta.dirname, '../helpers/bin');

const app = (base: string, body: string) => ({
  Dockerfile: `FROM ${base}\nCOPY www /www\nUSER 1000\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
  'www/index.html': body,
});

/**
 * A private base image in an authenticated registry, an app built FROM it and pushed to that registry, served
 * by the local target (whose Engine pulls it with the same credentials). Real docker-registry instances with
 * htpasswd and token auth, real BuildKit, Docker Engine and router.
 */
describe('private registries through the whole pipeline (real docker-registry with auth, BuildKit, Engine)', () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  const dirs: string[] = [];
  beforeAll(async () => {
    [basic, token] = await Promise.all([
      startRegistry({ kind: 'htpasswd', username: 'alice', password: 'alice-registry-pw' }),
      startRegistry({ kind: 'token', users: { bob: 'bob-registry-pw' }, pushers: { bob: ['team/base', 'slipway/web'] } }),
    ]);
  });
  afterAll(async () => {
    await basic?.stop();
    await token?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function serve(registry: TestRegistry, base: string, env: Record<string, string>, password: string) {
    const repo = new TestRepo();
    const port = await freePort();
    let rt: TestRuntime | undefined;
    try {
      rt = await startTestRuntime({
        router: true,
        env,
        config: {
          registry: { url: `http://${registry.host}`, namespace: 'slipway' },
          ...(env.REG_PASSWORD ? { registries: { [registry.host]: { username: 'alice', passwordEnv: 'REG_PASSWORD' } } } : {}),
          targets: { local: { kind: 'local', listen: `127.0.0.1:${port}`, domain: 'slipway.test' } },
          apps: [{ name: 'web', repo: 'github:octo/web', cloneUrl: repo.bare, branches: { main: 'local' } }],
        },
      });
      const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/web', commit: repo.commit(app(base, 'private\n')) }));
      const build = await buildEnded(rt, pushed.builds[0]!.id);
      const logs = (await logsAfter(rt.store.db, build.id)).map((l) => l.line).join('\n');
      expect(build.state, `${build.errorCode}: ${build.errorMessage}\n${logs}`).toBe('ready');
      expect(build.digest).toBeTruthy();
      const served = await waitFor(
        async () => {
          const r = await getWithHost(`http://127.0.0.1:${port}`, 'web.slipway.test');
          return r.status === 200 && r.body === 'private\n' ? r : undefined;
        },
        'web.slipway.test to serve the private image',
        15_000,
      );
      expect(served.body).toBe('private\n');
      const api = (await rt.server!.inject({ method: 'GET', url: `/api/v1/builds/${build.id}`, headers: API_AUTH })).body;
      for (const text of [logs, api, JSON.stringify(build)]) expect(text).not.toContain(password);
    } finally {
      await rt?.stop();
      repo.cleanup();
    }
  }

  it('htpasswd registry, credentials from registries: in slipway.yaml', async () => {
    const base = await copyBase(new RegistryClient({ host: basic.host, credentials: { username: 'alice', password: 'alice-registry-pw' } }), 'team/base');
    // The base image is private: without credentials it cannot be read.
    await expect(new RegistryClient({ host: basic.host }).getManifest('team/base', 'latest')).rejects.toMatchObject({ code: 'SLW_REGISTRY_AUTH' });
    const empty = mkdtempSync(join(tmpdir(), 'slipway-nodocker-'));
    dirs.push(empty);
    await serve(basic, base, { REG_PASSWORD: 'alice-registry-pw', DOCKER_CONFIG: empty }, 'alice-registry-pw');
  });

  it("the local target's Engine pulls with X-Registry-Auth, and without credentials fails with SLW_REGISTRY_AUTH", async () => {
    const alice = new RegistryClient({ host: basic.host, credentials: { username: 'alice', password: 'alice-registry-pw' } });
    await copyBase(alice, 'team/base');
    const head = await alice.headManifest('team/base', 'latest');
    const ref = `${basic.host}/team/base@${head!.digest}`;
    const engine = new DockerEngine(process.env.SLIPWAY_TEST_DOCKER_SOCK ?? '/var/run/docker.sock');
    try {
      const refused = await engine.pull(ref, undefined, basic.host).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(refused).toMatchObject({ code: 'SLW_REGISTRY_AUTH' });
      expect(refused!.message).toContain(`registry ${basic.host}, repository team/base (scope pull)`);
      await engine.pull(ref, { username: 'alice', password: 'alice-registry-pw' }, basic.host);
      expect(await engine.hasImage(ref)).toBe(true);
    } finally {
      // Only the reference this test pulled; the Engine keeps it when a container of the same image runs.
      try {
        execFileSync('docker', ['rmi', ref], { stdio: 'ignore' });
      } catch {
        // in use under another name: left to the Engine
      }
      engine.close();
    }
  });

  it("token registry, credentials from Docker's config.json through a credHelpers entry", async () => {
    const base = await copyBase(new RegistryClient({ host: token.host, credentials: { username: 'bob', password: 'bob-registry-pw' } }), 'team/base');
    const dir = mkdtempSync(join(tmpdir(), 'slipway-dockercfg-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'cfg'));
    writeFileSync(join(dir, 'cfg', 'config.json'), JSON.stringify({ credHelpers: { [token.host]: 'slipwaytest' } }));
    writeFileSync(join(dir, 'store.json'), JSON.stringify({ [token.host]: { Username: 'bob', Secret: 'bob-registry-pw' } }));
    await serve(
      token,
      base,
      {
        DOCKER_CONFIG: join(dir, 'cfg'),
        PATH: `${HELPER_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        SLIPWAY_TEST_CRED_STORE: join(dir, 'store.json'),
      },
      'bob-registry-pw',
    );
  });

  it('a wrong password fails the build with SLW_REGISTRY_AUTH, quickly and without leaking it', async () => {
    const base = `${basic.host}/team/base:latest`;
    const repo = new TestRepo();
    const empty = mkdtempSync(join(tmpdir(), 'slipway-nodocker-'));
    dirs.push(empty);
    const rt = await startTestRuntime({
      env: { REG_PASSWORD: 'wrong-registry-pw', DOCKER_CONFIG: empty },
      config: {
        registry: { url: `http://${basic.host}`, namespace: 'slipway' },
        registries: { [basic.host]: { username: 'alice', passwordEnv: 'REG_PASSWORD' } },
        apps: [{ name: 'web', repo: 'github:octo/web', cloneUrl: repo.bare, branches: { main: 'local' } }],
      },
    });
    try {
      const before = basic.counts().registry;
      const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/web', commit: repo.commit(app(base, 'x\n')) }));
      const build = await buildEnded(rt, pushed.builds[0]!.id);
      expect(build.state).toBe('failed');
      expect(build.errorCode).toBe('SLW_REGISTRY_AUTH');
      expect(build.errorMessage).toContain(basic.host);
      expect(build.errorMessage).toContain(`registries."${basic.host}" of the configuration`);
      // BuildKit resolves the base image (a few requests), fails, and the build is not retried.
      expect(basic.counts().registry - before).toBeLessThan(10);
      const logs = (await logsAfter(rt.store.db, build.id)).map((l) => l.line).join('\n');
      expect(`${logs}${build.errorMessage}`).not.toContain('wrong-registry-pw');
    } finally {
      await rt.stop();
      repo.cleanup();
    }
  });
});
