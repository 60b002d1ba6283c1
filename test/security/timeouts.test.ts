import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { runBuild, type Stage } from '../../src/pipeline/index.js';
import { createBuild, getBuild, listStages } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { buildEnded, deliverGithub, servingApp, startTestRuntime, testConfig, waitFor } from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';

/** Processes whose argv is exactly `argv` (BuildKit's RUN containers are processes of this machine). */
const running = (argv: string[]): number[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `${argv.join('\0')}\0`;
      } catch {
        return false;
      }
    })
    .map(Number);

describe('build time limits', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('a `RUN sleep` past builds.stageTimeout fails the build with SLW_BUILD_TIMEOUT and the BuildKit solve is canceled (real BuildKit)', async () => {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const rt = await startTestRuntime({
      config: {
        builds: { ...testConfig('/tmp', 'p').builds, workspace: 'workspaces', stageTimeout: '20s' },
        apps: [{ name: 'slow', repo: 'github:octo/slow', cloneUrl: repo.bare, branches: { main: 'local' } }],
      },
    });
    cleanups.push(() => rt.stop());
    // A number no other process sleeps for: the RUN step's process is found by its argv.
    const seconds = String(100_000 + Math.floor(Math.random() * 800_000));
    const extra = `RUN echo ${randomBytes(4).toString('hex')} && exec sleep ${seconds}\n`;
    const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/slow', commit: repo.commit(servingApp('slow\n', { extra })) }));
    const id = pushed.builds[0]!.id;

    await waitFor(async () => (running(['sleep', seconds]).length ? true : undefined), 'the RUN sleep step to start', 20_000);
    const build = await buildEnded(rt, id, 60_000);
    expect(build).toMatchObject({ state: 'failed', errorCode: 'SLW_BUILD_TIMEOUT', stage: 'build' });
    expect(build.errorMessage).toBe('the build stage ran longer than builds.stageTimeout (20s); make it faster or raise builds.stageTimeout');
    expect((await listStages(rt.store.db, id)).find((s) => s.stage === 'build')?.state).toBe('failed');
    // BuildKit stopped the step: nothing keeps sleeping on the build's behalf.
    await waitFor(async () => (running(['sleep', seconds]).length === 0 ? true : undefined), 'the sleeping step to be killed', 20_000);
  }, 120_000);

  it('builds.timeout ends a build whose stage ignores the abort, and frees the worker (stage that never settles)', async () => {
    const rt = await startTestRuntime({
      worker: false,
      config: {
        builds: { ...testConfig('/tmp', 'p').builds, workspace: 'workspaces', timeout: '1500ms' },
        apps: [{ name: 'stuck', repo: 'github:octo/stuck', branches: { main: 'local' } }],
      },
    });
    cleanups.push(() => rt.stop());
    const { build } = await createBuild(rt.store.db, {
      app: 'stuck',
      target: 'local',
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      scope: 'branch:main',
      trigger: 'push',
      cloneUrl: '/nowhere',
    });
    let aborted = false;
    const stuck: Stage = {
      name: 'stuck',
      running: 'building',
      reached: 'built',
      run: (ctx) => {
        ctx.signal.addEventListener('abort', () => (aborted = true));
        return new Promise<never>(() => undefined); // ignores the signal: never settles
      },
    };
    const result = await runBuild(
      build.id,
      { config: rt.config, store: rt.store, events: rt.events, logger: createLogger({ level: 'silent' }), cwd: rt.dir },
      { signal: new AbortController().signal, attempt: 1, maxAttempts: 1, stages: [stuck] },
    );
    expect(result.outcome).toBe('failed');
    expect(aborted).toBe(true);
    expect(await getBuild(rt.store.db, build.id)).toMatchObject({
      state: 'failed',
      errorCode: 'SLW_BUILD_TIMEOUT',
      errorMessage: 'the build ran longer than builds.timeout (1500ms) and was stopped in the stuck stage; make it faster or raise builds.timeout',
    });
  }, 30_000);
});
