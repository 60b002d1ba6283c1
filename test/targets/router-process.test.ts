import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTargets, openTargets } from '../../src/app/services/serving.js';
import { configSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { openStore } from '../../src/store/index.js';
import { docker, dockerOk } from '../enforcer/docker.js';
import { freePort } from '../helpers/ports.js';
import { spawnSlipway, writeConfig } from '../helpers/processes.js';
import { uniquePrefix, waitFor } from '../helpers/runtime.js';
import { buildApp, get, testId } from './helpers.js';

/**
 * `slipway router` as its own process (the built bin/slipway), while another process — this one, as a
 * worker would — promotes through the same database: the router picks the route up from the store and
 * adopts the container the promotion started, then a second router process does the same after a restart.
 */
describe('slipway router (a real process)', () => {
  const prefix = uniquePrefix();
  const dir = mkdtempSync(join(tmpdir(), 'slipway-router-'));
  afterAll(async () => {
    const ids = (await dockerOk(['ps', '-aq', '--filter', `label=dev.slipway.installation=${prefix}`])).split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves what another process promotes, and a restarted router keeps serving it with the same container', async () => {
    const image = await buildApp(`slipway-test/serving-router-${testId()}`, 'v1');
    const listen = `127.0.0.1:${await freePort()}`;
    const raw = { redisPrefix: prefix, database: `sqlite:${join(dir, 'slipway.db')}`, log: { level: 'warn' }, targets: { local: { kind: 'local', listen } } };
    const file = writeConfig(dir, raw);
    const store = await openStore({ url: configSchema.parse(raw).database });
    const targets = openTargets(configSchema.parse(raw), store, createLogger({ level: 'silent' }));
    try {
      const router = spawnSlipway(['router', '--config', file], { cwd: dir });
      await router.waitForLine(/local listening on http:\/\/127\.0\.0\.1:\d+/);
      const result = await targets.get('local')!.promote('hello', { image, buildId: 'b-1', commit: 'a'.repeat(40), buildCreatedAt: new Date().toISOString() });
      expect(result).toMatchObject({ revision: 'hello-1', url: 'http://hello.localhost', moved: true });
      const first = await waitFor(
        async () => {
          const r = await get(`http://${listen}`, 'hello.localhost');
          return r.status === 200 ? r : undefined;
        },
        'the router to serve the promoted revision',
        10_000,
      );
      expect(first).toMatchObject({ body: 'v1', revision: 'hello-1' });
      const containers = async () => (await dockerOk(['ps', '-q', '--filter', `label=dev.slipway.installation=${prefix}`])).split('\n').filter(Boolean);
      const before = await containers();
      expect(before).toHaveLength(1);

      expect(await router.stop('SIGTERM')).toBe(0);
      const again = spawnSlipway(['router', '--config', file], { cwd: dir });
      await again.waitForLine(/listening on/);
      expect(await get(`http://${listen}`, 'hello.localhost')).toMatchObject({ status: 200, revision: 'hello-1' });
      expect(await containers()).toEqual(before);
      expect(await again.stop('SIGTERM')).toBe(0);
    } finally {
      await closeTargets(targets);
      await store.close();
    }
  }, 60_000);
  it("with only a knative target it stays up to collect that target's enforcer decisions, and says so", async () => {
    // The kubeconfig names a closed port on 127.0.0.1: collection is best effort and retries; the process must not exit.
    const kubeconfig = join(dir, 'closed.kubeconfig');
    const port = await freePort();
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\n` +
        'users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const raw = {
      redisPrefix: prefix,
      database: `sqlite:${join(dir, 'knative-only.db')}`,
      log: { level: 'error' },
      targets: { prod: { kind: 'knative', kubeconfig, domain: 'apps.example.com' } },
    };
    const router = spawnSlipway(['router', '--config', writeConfig(dir, raw, 'knative-only.yaml')], { cwd: dir });
    await router.waitForLine(/prod has no router here .*collecting the enforcer decisions of its pods/);
    expect(router.output()).not.toMatch(/nothing to do/);
    expect(await router.stop('SIGTERM')).toBe(0);
  }, 30_000);

  it('with no target at all it exits 1 and says how to add one', async () => {
    const raw = { redisPrefix: prefix, database: `sqlite:${join(dir, 'none.db')}`, log: { level: 'error' }, targets: {} };
    const router = spawnSlipway(['router', '--config', writeConfig(dir, raw, 'none.yaml')], { cwd: dir });
    expect(await router.exited()).toBe(1);
    expect(router.output()).toMatch(/slipway router: nothing to do: no target is configured .*Add a target of kind local under `targets`/);
  }, 30_000);
});
