import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { getWithHost } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { servingApp, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { startFakeGithub, type FakeGithub } from './fakes/github-api.js';
import { buildIdsOf, githubPr, GITHUB_TOKEN, postGithub } from './setup.js';

/**
 * Forge feedback through the real pipeline (BuildKit, registry, injection, signing, Docker
 * Engine and the router) and a strict fake GitHub REST API (GitHub cannot be reached here): a pull
 * request gets a check run, one comment with a working preview URL and an active deployment; a second
 * push shows the new revision in the same comment; closing marks the deployment inactive.
 */
describe('a pull request end to end (real pipeline, strict fake GitHub API)', () => {
  let fake: FakeGithub;
  let rt: TestRuntime;
  let repo: TestRepo;
  let routerPort: number;

  beforeAll(async () => {
    fake = await startFakeGithub({ token: GITHUB_TOKEN, permissions: { octocat: 'admin' } });
    repo = new TestRepo();
    routerPort = await freePort();
    rt = await startTestRuntime({
      router: true,
      config: {
        github: { webhookSecret: "It's a Secret to Everybody", token: GITHUB_TOKEN, apiUrl: fake.url },
        feedback: { backoff: '100ms', attempts: 5, timeout: '5s' },
        targets: { local: { kind: 'local', listen: `127.0.0.1:${routerPort}`, domain: 'slipway.test' } },
        apps: [{ name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' } }],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    await fake?.close();
    repo?.cleanup();
  });

  const ready = (id: string) =>
    waitFor(
      async () => {
        const b = await getBuild(rt.store.db, id);
        return b && ['ready', 'failed', 'rejected', 'canceled'].includes(b.state) ? b : undefined;
      },
      `build ${id} to end`,
      90_000,
    );
  const viaRouter = (host: string) => getWithHost(`http://127.0.0.1:${routerPort}/`, host);
  const comments = () => fake.comments.get(21) ?? [];

  it('reports the preview in a check run, one comment and a deployment, then retires it on close', async () => {
    const first = repo.commit(servingApp('preview one\n'), 'feature-21');
    const [id1] = buildIdsOf(await postGithub(rt, 'pull_request', githubPr('opened', 21, first)));
    expect((await ready(id1!)).state).toBe('ready');

    const check = await waitFor(async () => fake.checkRuns.find((c) => c.head_sha === first && c.status === 'completed'), 'the check run to complete');
    expect(check).toMatchObject({ name: 'slipway/local', conclusion: 'success' });
    const deployment = await waitFor(
      async () => fake.deployments.find((d) => d.ref === first && d.statuses.at(-1)?.state === 'success'),
      'the deployment to succeed',
    );
    expect(deployment.environment).toBe('preview/pr-21');
    expect(deployment.statuses.at(-1)!.environment_url).toBe(`http://pr-21-hello.slipway.test:${routerPort}`);
    await waitFor(async () => (comments()[0]?.body.includes('hello-1') ? true : undefined), 'the comment to name the revision');
    expect(comments()[0]!.body).toContain(`http://pr-21-hello.slipway.test:${routerPort}`);
    // The URL in the comment works.
    await waitFor(async () => ((await viaRouter('pr-21-hello.slipway.test')).body === 'preview one\n' ? true : undefined), 'the preview to answer');

    const second = repo.commit(servingApp('preview two\n'), 'feature-21');
    const [id2] = buildIdsOf(await postGithub(rt, 'pull_request', githubPr('synchronize', 21, second)));
    expect((await ready(id2!)).state).toBe('ready');
    await waitFor(async () => (comments()[0]?.body.includes('hello-2') ? true : undefined), 'the same comment to name the new revision');
    expect(comments()).toHaveLength(1);
    await waitFor(
      async () => ((await viaRouter('pr-21-hello.slipway.test')).body === 'preview two\n' ? true : undefined),
      'the preview to serve the new revision',
    );

    await postGithub(rt, 'pull_request', githubPr('closed', 21, second));
    await waitFor(
      async () => (fake.deployments.filter((d) => d.environment === 'preview/pr-21').every((d) => d.statuses.at(-1)?.state === 'inactive') ? true : undefined),
      'the preview deployments to be inactive',
    );
    await waitFor(async () => ((await viaRouter('pr-21-hello.slipway.test')).status === 404 ? true : undefined), 'the preview URL to be gone');
    expect(fake.violations).toEqual([]);
  }, 180_000);
});
