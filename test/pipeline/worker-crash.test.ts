import { afterEach, describe, expect, it } from 'vitest';
import { getBuild, listStages, logsAfter } from '../../src/store/index.js';
import { GitHttpServer } from '../helpers/git-http.js';
import { TestRepo } from '../helpers/git.js';
import { spawnSlipway, writeConfig, type SlipwayProcess } from '../helpers/processes.js';
import { startTestRuntime, TEST_REDIS_URL, waitFor, WEBHOOK_SECRET, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';

describe('a worker killed with SIGKILL mid-build (real worker processes, Redis, SQLite, git over HTTP)', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('another worker takes the build over and it finishes exactly once', async () => {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const git = new GitHttpServer(repo.bare);
    const url = await git.start();
    const app = { name: 'hello', repo: 'github:octo/hello', cloneUrl: url, branches: { main: 'local' } };
    // This process runs the server only; the builds run in separate `slipway worker` processes.
    const rt = await startTestRuntime({ worker: false, config: { apps: [app] } });
    cleanups.push(() => rt.stop());
    cleanups.push(() => git.stop()); // runs first: releases anything held

    const configFile = writeConfig(rt.dir, {
      redis: TEST_REDIS_URL,
      redisPrefix: rt.prefix,
      database: rt.config.database,
      builds: { workspace: rt.config.builds.workspace, lockDuration: '2s', stalledInterval: '1s' },
      apps: [app],
      log: { level: 'info' },
    });
    const startWorker = async (): Promise<SlipwayProcess> => {
      const p = spawnSlipway(['worker', '--config', configFile], { cwd: rt.dir });
      cleanups.push(() => p.stop('SIGKILL'));
      await p.waitForLine(/build worker ready/);
      return p;
    };

    const first = await startWorker();
    git.hold();
    const sha = repo.commit(servingApp());
    const req = signedGithub('push', githubPush({ repo: 'octo/hello', commit: sha }), WEBHOOK_SECRET);
    const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
    const id = res.json().builds[0].id as string;

    await waitFor(async () => (git.uploadPacks > 0 ? true : undefined), 'the first worker to be fetching');
    expect((await getBuild(rt.store.db, id))!.state).toBe('fetching');
    expect(await first.stop('SIGKILL')).not.toBe(0);

    git.release();
    const second = await startWorker();
    const done = await waitFor(
      async () => {
        const row = await getBuild(rt.store.db, id);
        return row && [FINAL_STATE, 'failed', 'canceled'].includes(row.state) ? row : undefined;
      },
      'the second worker to finish the build',
      30_000,
    );

    expect(done).toMatchObject({ state: FINAL_STATE, commit: sha, errorCode: null });
    const lines = (await logsAfter(rt.store.db, id)).map((l) => l.line);
    // The first worker started fetching, the second started again and finished: one end, not two.
    expect(lines.filter((l) => l === '▶ fetch')).toHaveLength(2);
    expect(lines.filter((l) => l === `build ${FINAL_STATE}`)).toHaveLength(1);
    expect((await listStages(rt.store.db, id)).filter((s) => ['fetch', 'build'].includes(s.stage))).toMatchObject([
      { stage: 'fetch', state: 'done' },
      { stage: 'build', state: 'done' },
    ]);
    // The worker's log reaches its stdout pipe a moment after the store says the build ended.
    await waitFor(async () => (second.output().includes(id) ? true : undefined), 'the second worker to log the build', 10_000).catch(() => undefined);
    expect(second.output()).toContain(id);
    const job = await rt.queue.queue.getJob(id);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toEqual({ state: FINAL_STATE });
  }, 60_000);
});
