import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsAfter } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { buildEnded, deliverGithub, servingApp, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { githubPullRequest, githubPush } from '../helpers/webhooks.js';

/**
 * apps[].buildSecrets through the real pipeline and BuildKit: the worker's environment variable reaches
 * `RUN --mount=type=secret` for a push, never the log; a fork's pull request gets no secret.
 */

const SECRET = 'sw-build-secret-4f1c9a';
const SECRET_SHA = createHash('sha256').update(SECRET).digest('hex');
/** A serving app whose build succeeds only when the secret reached it (compared by hash: the Dockerfile is logged). */
const app = (body: string) =>
  servingApp(body, { extra: `RUN --mount=type=secret,id=token,required=true test "$(sha256sum /run/secrets/token | cut -c1-64)" = "${SECRET_SHA}"\n` });

describe('build secrets in pipeline builds (real BuildKit)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;

  beforeAll(async () => {
    repo = new TestRepo();
    rt = await startTestRuntime({
      env: { SLIPWAY_TEST_BUILD_TOKEN: SECRET },
      config: {
        apps: [
          {
            name: 'sec',
            repo: 'github:octo/sec',
            cloneUrl: repo.bare,
            branches: { main: 'local' },
            previews: { target: 'local' },
            buildSecrets: { token: 'SLIPWAY_TEST_BUILD_TOKEN' },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
  });

  const lines = async (id: string) => (await logsAfter(rt.store.db, id)).map((l) => l.line).join('\n');

  it('a push builds with the secret, which no log line shows; a fork pull request builds without it', async () => {
    const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/sec', commit: repo.commit(app('main\n')) }));
    const build = await buildEnded(rt, pushed.builds[0]!.id);
    const log = await lines(build.id);
    expect(build.state, log).toBe('ready');
    expect(log).toContain('build secrets: token');
    expect(log).not.toContain(SECRET);

    const sha = repo.commit(app('fork\n'), 'fork');
    const fork = await deliverGithub(rt, 'pull_request', githubPullRequest({ repo: 'octo/sec', action: 'opened', number: 4, headSha: sha, fork: true }));
    const forked = await buildEnded(rt, fork.builds[0]!.id);
    const forkLog = await lines(forked.id);
    expect(forked.state).toBe('failed');
    expect(forked.errorMessage).toMatch(/secret token/i);
    expect(forkLog).toContain('build secrets withheld (token): pull request #4 comes from a fork');
    expect(forkLog).not.toContain(SECRET);
  });
});

describe('build secrets whose variable is not set', () => {
  it('fail the build naming the variable, before BuildKit runs', async () => {
    const repo = new TestRepo();
    const rt = await startTestRuntime({
      config: {
        apps: [
          { name: 'nosec', repo: 'github:octo/nosec', cloneUrl: repo.bare, branches: { main: 'local' }, buildSecrets: { token: 'SLIPWAY_TEST_UNSET_TOKEN' } },
        ],
      },
    });
    try {
      const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/nosec', commit: repo.commit(app('main\n')) }));
      const build = await buildEnded(rt, pushed.builds[0]!.id);
      expect(build.state).toBe('failed');
      expect(build.errorMessage).toBe(
        'build secrets token (SLIPWAY_TEST_UNSET_TOKEN): the environment variable is not set on this worker; set it where slipway worker runs (apps[].buildSecrets)',
      );
    } finally {
      await rt.stop();
      repo.cleanup();
    }
  });
});
