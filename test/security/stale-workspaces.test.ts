import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { newBuildId } from '../../src/store/ids.js';
import { createBuild, transitionBuild } from '../../src/store/index.js';
import { startBuildWorker } from '../../workers/build-worker.js';
import { startTestRuntime, TEST_REDIS_URL } from '../helpers/runtime.js';

/**
 * A worker killed mid-build leaves its checkout in builds.workspace; the next worker start removes the
 * workspaces of builds no worker runs, and leaves those of builds another worker (sharing the directory)
 * still holds (real Redis locks, SQLite, a real build worker).
 */
describe('stale workspaces at worker start (real Redis and worker)', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it("removes those of ended, unknown and unlocked builds; keeps a locked build's and what is not a build's", async () => {
    const rt = await startTestRuntime({ worker: false, config: { apps: [{ name: 'ws', repo: 'github:octo/ws', branches: { main: 'local' } }] } });
    cleanups.push(() => rt.stop());
    const root = resolve(rt.dir, rt.config.builds.workspace);
    const make = async (state: 'failed' | 'building' | 'fetching', n: number) => {
      const { build } = await createBuild(rt.store.db, {
        app: 'ws',
        target: 'local',
        commit: String(n).repeat(40),
        ref: 'refs/heads/main',
        scope: `branch:b${n}`,
        trigger: 'push',
        cloneUrl: '/nowhere',
      });
      await transitionBuild(rt.store.db, build.id, ['queued'], state);
      return build.id;
    };
    const ended = await make('failed', 1);
    const unlocked = await make('building', 2);
    const locked = await make('fetching', 3);
    const unknown = newBuildId();
    const hour = Date.now() / 1000 - 3600;
    for (const id of [ended, unlocked, locked, unknown, 'notes']) {
      mkdirSync(join(root, id, 'src'), { recursive: true });
      writeFileSync(join(root, id, 'src', 'file'), 'x');
      utimesSync(join(root, id), hour, hour);
    }
    // Another worker sharing the directory holds this build's job.
    await rt.redis.set(`${rt.prefix}:builds:${locked}:lock`, 'another-worker', 'PX', 60_000);

    const worker = await startBuildWorker({
      deps: { config: rt.config, store: rt.store, events: rt.events, logger: createLogger({ level: 'silent' }), cwd: rt.dir },
      queue: rt.queue,
      redis: { url: TEST_REDIS_URL },
      prefix: rt.prefix,
    });
    cleanups.push(() => worker.close());

    expect(existsSync(join(root, ended))).toBe(false);
    expect(existsSync(join(root, unknown))).toBe(false);
    expect(existsSync(join(root, unlocked))).toBe(false);
    expect(existsSync(join(root, locked, 'src', 'file'))).toBe(true);
    expect(existsSync(join(root, 'notes', 'src', 'file'))).toBe(true);
  });
});
