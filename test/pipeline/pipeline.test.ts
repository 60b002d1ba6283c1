import { afterEach, describe, expect, it } from 'vitest';
import { getBuild, listStages, logsAfter } from '../../src/store/index.js';
import { GitHttpServer } from '../helpers/git-http.js';
import { TestRepo } from '../helpers/git.js';
import { startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';

const app = (cloneUrl: string) => ({ name: 'hello', repo: 'github:octo/hello', cloneUrl, branches: { main: 'local' } });

describe('pipeline (real Redis, SQLite, git)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function setup(cloneUrl?: string) {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const rt = await startTestRuntime({ config: { apps: [app(cloneUrl ?? repo.bare)] } });
    cleanups.push(() => rt.stop());
    return { repo, rt };
  }

  const push = async (rt: TestRuntime, commit: string) => {
    const req = signedGithub('push', githubPush({ repo: 'octo/hello', commit }), WEBHOOK_SECRET);
    const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
    expect(res.statusCode).toBe(202);
    return res.json().builds[0].id as string;
  };

  const stateOf = async (rt: TestRuntime, id: string, states: string[]) => {
    const row = await getBuild(rt.store.db, id);
    return row && states.includes(row.state) ? row : undefined;
  };

  it('a signed push produces exactly one build that fetches the exact commit, builds it and reaches built', async () => {
    const { repo, rt } = await setup();
    const sha = repo.commit(servingApp());
    const id = await push(rt, sha);
    const build = await waitFor(() => stateOf(rt, id, [FINAL_STATE, 'failed']), 'the build to finish');
    expect(build).toMatchObject({ state: FINAL_STATE, commit: sha, errorCode: null });
    const stages = (await listStages(rt.store.db, id)).filter((s) => ['fetch', 'build'].includes(s.stage));
    expect(stages).toMatchObject([
      { stage: 'fetch', state: 'done' },
      { stage: 'build', state: 'done' },
    ]);
    const lines = (await logsAfter(rt.store.db, id)).map((l) => l.line);
    expect(lines).toContain(`checked out ${sha}`);
    expect(lines.at(-1)).toBe(`build ${FINAL_STATE}`);
    // The workspace is removed once the pipeline ends.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(rt.config.builds.workspace)).toEqual([]);
  });

  it('fails for good, without retrying, when the commit does not exist in the repository', async () => {
    const { rt } = await setup();
    const id = await push(rt, '1'.repeat(40));
    const build = await waitFor(() => stateOf(rt, id, [FINAL_STATE, 'failed']), 'the build to fail');
    expect(build).toMatchObject({ state: 'failed', errorCode: 'SLW_FETCH_COMMIT_MISSING', attempts: 1 });
    expect(build.errorMessage).toMatch(/cannot be fetched/);
  });

  it('retries a retryable failure with backoff, then fails with the last error', async () => {
    // Nothing listens on this loopback port: connection refused is retryable.
    const { rt } = await setup('http://127.0.0.1:9/nothing.git');
    const id = await push(rt, '2'.repeat(40));
    const build = await waitFor(() => stateOf(rt, id, [FINAL_STATE, 'failed']), 'the build to fail', 30_000);
    expect(build).toMatchObject({ state: 'failed', errorCode: 'SLW_FETCH_FAILED', attempts: 3 });
    const lines = (await logsAfter(rt.store.db, id)).map((l) => l.line);
    expect(lines.filter((l) => l.includes('will try again'))).toHaveLength(2);
  });

  it('a newer push aborts the running build of an older commit (cancel in progress)', async () => {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const git = new GitHttpServer(repo.bare);
    cleanups.push(() => git.stop());
    const url = await git.start();
    const rt = await startTestRuntime({ config: { apps: [app(url)] } });
    cleanups.push(() => rt.stop());

    const older = repo.commit({ v: '1', ...servingApp() });
    git.hold(); // the first fetch hangs in upload-pack: the build is running
    const olderId = await push(rt, older);
    await waitFor(async () => (git.uploadPacks > 0 ? true : undefined), 'the older build to start fetching');
    expect((await getBuild(rt.store.db, olderId))!.state).toBe('fetching');

    const newer = repo.commit({ v: '2' });
    const newerId = await push(rt, newer);
    const canceled = await waitFor(() => stateOf(rt, olderId, ['canceled', FINAL_STATE, 'failed']), 'the older build to stop');
    expect(canceled).toMatchObject({ state: 'canceled', supersededBy: newerId });
    // It stopped while the remote was still holding it: the abort reached the running git fetch.
    expect(git.uploadPacks).toBeGreaterThan(0);
    // The worker that ran it says so in the build's log once the abort has reached it.
    const last = await waitFor(async () => {
      const line = (await logsAfter(rt.store.db, olderId)).at(-1)?.line;
      return line?.startsWith('build canceled') ? line : undefined;
    }, 'the running build to log its cancellation');
    expect(last).toMatch(/^build canceled: superseded by build /);
    expect((await listStages(rt.store.db, olderId)).find((s) => s.stage === 'fetch')).toMatchObject({ stage: 'fetch', state: 'canceled' });

    git.release();
    const done = await waitFor(() => stateOf(rt, newerId, [FINAL_STATE, 'failed']), 'the newer build to finish');
    expect(done.state).toBe(FINAL_STATE);
  });
});
