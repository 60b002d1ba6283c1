import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { getBuild, listStages, logsAfter } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { API_AUTH, startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';
import { cli } from './engine.js';
import { BASE_IMAGE, manifestStatus, pullImage, REGISTRY, REGISTRY_HOST } from './registry-image.js';

/** A push webhook through fetch and build to an image in the registry ("Done when"). */
describe('pipeline build stage (real Engine BuildKit, registry, Redis, SQLite, git)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function setup() {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    // One app name per test: its image repository is <registry>/slipway/<app>.
    const app = `bk-${randomBytes(4).toString('hex')}`;
    const rt = await startTestRuntime({
      config: {
        registry: { url: REGISTRY, namespace: 'slipway' },
        apps: [{ name: app, repo: `github:octo/${app}`, cloneUrl: repo.bare, branches: { main: 'local' } }],
      },
    });
    cleanups.push(() => rt.stop());
    return { repo, rt, app };
  }

  async function push(rt: TestRuntime, app: string, commit: string) {
    const req = signedGithub('push', githubPush({ repo: `octo/${app}`, commit }), WEBHOOK_SECRET);
    const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
    expect(res.statusCode).toBe(202);
    const id = res.json().builds[0].id as string;
    return waitFor(
      async () => {
        const b = await getBuild(rt.store.db, id);
        return b && [FINAL_STATE, 'failed', 'canceled'].includes(b.state) ? b : undefined;
      },
      'the build to end',
      60_000,
    );
  }

  it('a push ends with the image in the registry by digest, and its steps and logs in the API and `slipway logs`', async () => {
    const { repo, rt, app } = await setup();
    const sha = repo.commit({
      ...servingApp('hello\n', { extra: 'COPY message.txt /message.txt\nRUN cat /message.txt\n' }),
      // Unique content, so the RUN really runs (and prints) instead of hitting an earlier test's cache.
      'message.txt': `built by slipway for ${app}\n`,
    });
    const build = await push(rt, app, sha);
    expect(build).toMatchObject({ state: FINAL_STATE, errorCode: null });
    expect(build.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const repository = `${REGISTRY_HOST}/slipway/${app}`;

    // fetch, then build (policy gates, inject and sign run around them).
    const stages = (await listStages(rt.store.db, build.id)).filter((s) => ['fetch', 'build', 'inject'].includes(s.stage));
    expect(stages.map((s) => [s.stage, s.state])).toEqual([
      ['fetch', 'done'],
      ['build', 'done'],
      ['inject', 'done'],
    ]);
    const built = JSON.parse(stages[1]!.output!) as { digest: string; image: string; tag: string };
    expect(built).toEqual({ digest: built.digest, image: `${repository}@${built.digest}`, tag: sha.slice(0, 12) });
    expect(await manifestStatus(repository, built.digest)).toBe(200);
    // The image as built is labelled with the revision; the build then carries the protected (injected) digest.
    const image = await pullImage(repository, built.digest);
    expect(image.config.config?.Labels).toMatchObject({ 'org.opencontainers.image.revision': sha, 'dev.slipway.build': build.id });
    expect(image.files.get('message.txt')?.toString()).toBe(`built by slipway for ${app}\n`);
    expect(JSON.parse(stages[2]!.output!)).toMatchObject({ digest: build.digest, source: built.image });
    // The short-commit tag, for humans, ends on the protected image.
    const tagged = await fetch(`${REGISTRY}/v2/slipway/${app}/manifests/${sha.slice(0, 12)}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(tagged.headers.get('docker-content-digest')).toBe(build.digest);

    const view = (await (await fetch(`${rt.url}/api/v1/builds/${build.id}`, { headers: API_AUTH })).json()) as {
      state: string;
      digest: string;
      steps: { name: string; cached: boolean; durationMs: number | null; error: string | null }[];
    };
    expect(view).toMatchObject({ state: FINAL_STATE, digest: build.digest });
    expect(view.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['[3/4] COPY message.txt /message.txt', '[4/4] RUN cat /message.txt']));
    expect(view.steps.every((s) => s.error === null)).toBe(true);

    const lines = (await logsAfter(rt.store.db, build.id)).map((l) => l.line);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^#\d+ \[4\/4\] RUN cat \/message\.txt$/),
        expect.stringMatching(new RegExp(`^#\\d+ built by slipway for ${app}$`)),
      ]),
    );
    expect(lines).toContain(`pushed ${repository}@${built.digest} (${repository}:${sha.slice(0, 12)})`);
    expect(lines.at(-1)).toBe(`build ${FINAL_STATE}`);

    const logs = await cli(['logs', '-f', build.id, '--server', rt.url], rt.dir);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(new RegExp(`\\[build\\] #\\d+ built by slipway for ${app}`));
    expect(logs.stderr).toContain(`build ${build.id}: ${FINAL_STATE}`);
  });

  it('a failing RUN fails the build for good with the step, its output and the steps stored', async () => {
    const { repo, rt, app } = await setup();
    const sha = repo.commit({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo about to fail && exit 7\n` });
    const build = await push(rt, app, sha);
    expect(build).toMatchObject({ state: 'failed', errorCode: 'SLW_BUILD_STEP_FAILED', attempts: 1, digest: null });
    expect(build.errorMessage).toContain('step [2/2] RUN echo about to fail && exit 7 failed');
    expect(build.errorMessage).toContain('about to fail');
    const view = (await (await fetch(`${rt.url}/api/v1/builds/${build.id}`, { headers: API_AUTH })).json()) as {
      steps: { name: string; error: string | null }[];
    };
    expect(view.steps.find((s) => s.name.startsWith('[2/2] RUN'))?.error).toMatch(/exit code: 7/);
  });

  it('a repository without a Dockerfile fails saying where it looked', async () => {
    const { repo, rt, app } = await setup();
    const build = await push(rt, app, repo.commit({ 'README.md': 'no Dockerfile here' }));
    expect(build).toMatchObject({ state: 'failed', errorCode: 'SLW_BUILD_DOCKERFILE' });
    expect(build.errorMessage).toMatch(/the build context has no Dockerfile at "Dockerfile"/);
  });
});
