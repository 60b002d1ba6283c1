import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageRepository } from '../../src/pipeline/index.js';
import { getApproval, getBuild, listBuilds, listStages, logsAfter } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { freePort } from '../helpers/ports.js';
import { API_AUTH, servingApp, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { startFakeGithub, type FakeGithub } from '../feedback/fakes/github-api.js';
import { buildIdsOf, githubComment, githubPr, GITHUB_TOKEN, postGithub, settled } from '../feedback/setup.js';

/**
 * A fork's pull request before `/ok-to-test` (real pipeline: BuildKit, registry, injection, signing;
 * strict fake GitHub API, as GitHub cannot be reached here): it builds but is not signed, and
 * promoting its digest by hand is refused because of where it came from. Once a maintainer approves,
 * the digest may be promoted and the promotion records its origin and fork flag.
 */
describe("an unapproved fork's image is never promotable (real pipeline, strict fake GitHub API)", () => {
  let fake: FakeGithub;
  let rt: TestRuntime;
  let repo: TestRepo;

  beforeAll(async () => {
    fake = await startFakeGithub({ token: GITHUB_TOKEN, permissions: { maintainer: 'write' } });
    repo = new TestRepo();
    const port = await freePort();
    rt = await startTestRuntime({
      router: true,
      config: {
        github: { webhookSecret: "It's a Secret to Everybody", token: GITHUB_TOKEN, apiUrl: fake.url },
        feedback: { backoff: '100ms', attempts: 5, timeout: '5s' },
        targets: { local: { kind: 'local', listen: `127.0.0.1:${port}`, domain: 'slipway.test' } },
        apps: [{ name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' } }],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    await fake?.close();
    repo?.cleanup();
  });

  const promote = (image: string) =>
    fetch(`${rt.url}/api/v1/apps/hello/promotions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...API_AUTH },
      body: JSON.stringify({ image }),
    });

  it('is built but not signed, its digest is refused by the promotions API, and accepted with its origin once approved', async () => {
    const sha = repo.commit(servingApp('from a fork\n'), 'feature-31');
    const [id] = buildIdsOf(await postGithub(rt, 'pull_request', githubPr('opened', 31, sha, { fork: true })));
    const fork = await settled(rt, id!, ['built', 'signed', 'ready', 'failed', 'rejected', 'canceled']);
    const lines = (await logsAfter(rt.store.db, fork.id)).map((l) => l.line);
    expect(fork.state, lines.join('\n')).toBe('built');
    expect(fork.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lines).toContain(
      "sign skipped: pull request #31 comes from a fork: its preview waits for a maintainer's /ok-to-test comment or the slipway/ok-to-preview label",
    );
    expect((await listStages(rt.store.db, fork.id)).map((s) => s.stage)).not.toContain('sign');

    const image = `${imageRepository(rt.config, 'hello')}@${fork.digest}`;
    const before = (await listBuilds(rt.store.db, {})).length;
    const refused = await promote(image);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await refused.json()) as { code: string; detail: string; sourceBuild: string; fork: boolean };
    expect(problem).toMatchObject({ code: 'SLW_PROMOTION_ORIGIN', sourceBuild: fork.id, fork: true });
    expect(problem.detail).toContain(`was built by build ${fork.id} from a fork's pull request #31 that no maintainer approved`);
    expect((await listBuilds(rt.store.db, {})).length).toBe(before);

    // A maintainer approves: the commit builds again, signed this time, and the digest may be promoted.
    await postGithub(rt, 'issue_comment', githubComment(31, '/ok-to-test', 'maintainer'));
    await waitFor(() => getApproval(rt.store.db, 'hello', 31), 'the approval');
    const accepted = await promote(image);
    expect(accepted.status).toBe(202);
    const made = (await accepted.json()) as { id: string; fork: boolean; sourceBuild: string; trigger: string };
    expect(made).toMatchObject({ trigger: 'image', fork: true, sourceBuild: fork.id });
    expect(await getBuild(rt.store.db, made.id)).toMatchObject({ sourceBuild: fork.id, fork: true });
    expect(fake.violations).toEqual([]);
  }, 180_000);
});
