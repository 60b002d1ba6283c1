import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestRepo } from '../helpers/git.js';
import { getWithHost } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { spawnSlipway, writeConfig, type SlipwayProcess } from '../helpers/processes.js';
import { deletePrefix, removeContainers, TEST_REDIS_URL, uniquePrefix, waitFor, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';

/**
 * The "done when": `slipway up` as a user runs it, a signed push for an app whose cloneUrl is a
 * local bare repository → exactly one build that reaches `built` (fetched, built by Docker Engine's BuildKit and
 * pushed to the local registry), visible in `slipway builds` and the API.
 */
/** The token `slipway up` generated into its data directory (what the CLI on this machine uses by itself). */
const localAuth = (dir: string) => ({ authorization: `Bearer ${readFileSync(join(dir, '.slipway', 'local-token'), 'utf8').trim()}` });

describe('`slipway up` end to end (real processes, Redis, SQLite, git)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('turns a signed push into one built build shown by `slipway builds` and the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-up-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const prefix = uniquePrefix();
    cleanups.push(() => deletePrefix(prefix));
    cleanups.push(() => removeContainers(prefix));
    const [port, routerPort] = [await freePort(), await freePort()];
    const server = `http://127.0.0.1:${port}`;
    const config = writeConfig(dir, {
      server: { listen: `127.0.0.1:${port}`, publicUrl: server },
      targets: { local: { kind: 'local', listen: `127.0.0.1:${routerPort}` } },
      redis: TEST_REDIS_URL,
      redisPrefix: prefix,
      github: { webhookSecret: 'up-secret' },
      apps: [{ name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' } }],
    });

    const up: SlipwayProcess = spawnSlipway(['up'], { cwd: dir, env: { SLIPWAY_CONFIG: config } });
    cleanups.push(() => up.stop());
    await up.waitForLine(/listening on/);

    const sha = repo.commit(servingApp());
    const req = signedGithub('push', githubPush({ repo: 'octo/hello', commit: sha }), 'up-secret');
    const first = await fetch(`${server}/webhooks/github`, { method: 'POST', headers: req.headers, body: req.body });
    expect(first.status).toBe(202);
    const again = await fetch(`${server}/webhooks/github`, { method: 'POST', headers: req.headers, body: req.body });
    expect(((await again.json()) as { duplicate: boolean }).duplicate).toBe(true);

    const builds = await waitFor(
      async () => {
        const body = (await (await fetch(`${server}/api/v1/builds?app=hello`, { headers: localAuth(dir) })).json()) as {
          builds: { id: string; state: string; commit: string }[];
        };
        return body.builds.every((b) => b.state === FINAL_STATE) && body.builds.length > 0 ? body.builds : undefined;
      },
      'the build to reach built',
      60_000,
    );
    expect(builds).toHaveLength(1);
    expect(builds[0]!.commit).toBe(sha);

    const list = spawnSlipway(['builds', '--server', server], { cwd: dir });
    expect(await list.exited()).toBe(0);
    expect(list.output()).toMatch(new RegExp(`${builds[0]!.id}\\s+hello\\s+local\\s+${FINAL_STATE}\\s+${sha.slice(0, 12)}\\s+main`));

    // Stopping with SIGTERM drains and exits 0; a restart keeps the build (SQLite in .slipway/ under cwd).
    expect(await up.stop('SIGTERM')).toBe(0);
    const again2 = spawnSlipway(['up'], { cwd: dir, env: { SLIPWAY_CONFIG: config } });
    cleanups.push(() => again2.stop());
    await again2.waitForLine(/listening on/);
    const after = (await (await fetch(`${server}/api/v1/builds/${builds[0]!.id}`, { headers: localAuth(dir) })).json()) as { state: string };
    expect(after.state).toBe(FINAL_STATE);
  }, 120_000); // two real `slipway up` processes and a build: more than the 30 s default on a loaded machine
});

describe('`slipway up` with no app configured (real processes, BuildKit, registry, Docker Engine, router)', () => {
  it('deploys examples/hello through the whole pipeline and prints where it is served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-up-example-'));
    const prefix = uniquePrefix();
    const [port, routerPort] = [await freePort(), await freePort()];
    const config = writeConfig(dir, {
      server: { listen: `127.0.0.1:${port}`, publicUrl: `http://127.0.0.1:${port}` },
      redis: TEST_REDIS_URL,
      redisPrefix: prefix,
      targets: { local: { kind: 'local', listen: `127.0.0.1:${routerPort}` } },
    });
    const up = spawnSlipway(['up'], { cwd: dir, env: { SLIPWAY_CONFIG: config } });
    try {
      await up.waitForLine(/examples\/hello is ready at http:\/\/hello\.localhost/, 90_000);
      const { body } = await getWithHost(`http://127.0.0.1:${routerPort}/`, 'hello.localhost');
      expect(body).toContain('Hello from Slipway');
      expect(up.output()).toMatch(/curl -H 'Host: hello\.localhost' http:\/\/127\.0\.0\.1:\d+\//);
    } finally {
      await up.stop();
      removeContainers(prefix);
      await deletePrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
