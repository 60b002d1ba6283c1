import { afterEach, describe, expect, it } from 'vitest';
import { COMMENT_MARKER } from '../../src/feedback/index.js';
import { getApproval, listChangeRequestBuilds } from '../../src/store/index.js';
import { waitFor } from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';
import { startFakeGithub, type FakeGithub } from './fakes/github-api.js';
import {
  buildIdsOf,
  githubComment,
  githubPr,
  GITHUB_TOKEN,
  postGithub,
  promoteDirectly,
  rejectForksPolicies,
  settled,
  startFeedbackEnv,
  type FeedbackEnv,
} from './setup.js';

/**
 * Forge feedback against a strict fake GitHub REST API on loopback (GitHub cannot be reached here), with the
 * real runtime: webhooks in, real Redis (BullMQ build and feedback queues), SQLite and git. The test
 * repository has no Dockerfile, so builds end `failed` at the build stage — the outcome does not matter
 * to these tests, the reports about it do.
 */
describe('forge feedback on GitHub (strict fake GitHub API)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let fake: FakeGithub;
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function setup(options: Parameters<typeof startFakeGithub>[0] = { token: GITHUB_TOKEN }, config: Record<string, unknown> = {}): Promise<FeedbackEnv> {
    fake = await startFakeGithub({ permissions: { maintainer: 'write', owner: 'admin', reader: 'read', triager: 'triage' }, ...options });
    cleanups.push(() => fake.close());
    const env = await startFeedbackEnv({ github: { webhookSecret: "It's a Secret to Everybody", token: GITHUB_TOKEN, apiUrl: fake.url }, ...config });
    cleanups.push(() => env.cleanup());
    return env;
  }

  const commentsOf = (n: number) => fake.comments.get(n) ?? [];

  it('keeps one pull request comment, updated in place across three pushes (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup();
    const shas = [repo.commit({ 'a.txt': '1' }), repo.commit({ 'a.txt': '2' }), repo.commit({ 'a.txt': '3' })];
    const ids: string[] = [];
    ids.push(...buildIdsOf(await postGithub(rt, 'pull_request', githubPr('opened', 5, shas[0]!))));
    await settled(rt, ids[0]!);
    for (const sha of shas.slice(1)) {
      ids.push(...buildIdsOf(await postGithub(rt, 'pull_request', githubPr('synchronize', 5, sha))));
      await settled(rt, ids[ids.length - 1]!);
    }
    const last = ids[2]!;
    const comment = await waitFor(async () => {
      const list = commentsOf(5);
      return list.length === 1 && list[0]!.body.includes(last) && list[0]!.body.includes('❌ failed') ? list[0] : undefined;
    }, 'the comment to show the third build');
    expect(commentsOf(5)).toHaveLength(1);
    expect(comment.body).toContain(COMMENT_MARKER);
    expect(comment.body).toContain(shas[2]!.slice(0, 12));
    expect(comment.body).not.toContain(ids[0]!);
    // One check run per build, named after the target, each completed with its build page.
    await waitFor(async () => (fake.checkRuns.filter((r) => r.status === 'completed').length === 3 ? true : undefined), 'three completed check runs');
    expect(fake.checkRuns.map((r) => r.head_sha)).toEqual(shas);
    for (const [i, run] of fake.checkRuns.entries()) {
      expect(run).toMatchObject({ name: 'slipway/local', external_id: ids[i], details_url: `http://127.0.0.1:8080/builds/${ids[i]}`, conclusion: 'failure' });
    }
    expect(fake.violations).toEqual([]);
  });

  it('summarizes a policy rejection in the check run, with an annotation per failed rule (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup(undefined, { policies: rejectForksPolicies() });
    const sha = repo.commit({ 'a.txt': 'fork' });
    const [id] = buildIdsOf(await postGithub(rt, 'pull_request', githubPr('opened', 9, sha, { fork: true })));
    expect((await settled(rt, id!)).state).toBe('rejected');
    const run = await waitFor(async () => fake.checkRuns.find((r) => r.status === 'completed'), 'the check run to complete');
    expect(run.conclusion).toBe('failure');
    expect(run.output.title).toBe('Rejected by policy at the source gate: 1 rule failed');
    const summary = run.output.summary ?? '';
    expect(summary).toContain('#### Policy decisions');
    expect(summary).toContain('| source | no-fork-builds | 0 | enforce | ❌ deny | pull requests from forks do not build on this installation |');
    expect(summary).toContain('| source | commit-pinned | 0 | audit | ⚠️ warn | builds of branches other than main are only previews |');
    expect(summary).toContain('- Digest: none yet');
    expect(summary).toContain('- Signature: not signed');
    expect(summary).toContain('SLW_POLICY_REJECTED');
    expect(summary).toContain(`[Build log](http://127.0.0.1:8080/builds/${id})`);
    expect(run.annotations).toEqual([
      expect.objectContaining({ path: 'Dockerfile', annotation_level: 'failure', message: 'pull requests from forks do not build on this installation' }),
      expect.objectContaining({ path: 'Dockerfile', annotation_level: 'warning', message: 'builds of branches other than main are only previews' }),
    ]);
    const comment = await waitFor(async () => commentsOf(9).find((c) => c.body.includes('⛔ rejected')), 'the comment');
    expect(comment.body).toContain('comes from a fork: it builds without secrets and gets no preview');
    expect(fake.violations).toEqual([]);
  });

  it('deploys a preview, shows its URL and revision in the comment, and marks it inactive on close (strict fake GitHub API)', async () => {
    const { rt } = await setup();
    const first = await promoteDirectly(rt, { forge: 'github', repo: 'octo/hello', pr: 7, commit: 'a'.repeat(40), ref: 'feature-7' });
    const deployment = await waitFor(async () => fake.deployments.find((d) => d.statuses.some((s) => s.state === 'in_progress')), 'an in_progress deployment');
    expect(deployment).toMatchObject({ ref: 'a'.repeat(40), environment: 'preview/pr-7', transient_environment: true });
    const revision = await first.advance();
    await waitFor(async () => (deployment.statuses.at(-1)?.state === 'success' ? true : undefined), 'the deployment to succeed');
    expect(deployment.statuses.at(-1)).toEqual({
      state: 'success',
      environment_url: 'http://pr-7-hello.localhost:8081',
      log_url: `http://127.0.0.1:8080/builds/${first.build.id}`,
    });
    await waitFor(async () => (commentsOf(7)[0]?.body.includes(revision) ? true : undefined), 'the comment to show the revision');
    expect(commentsOf(7)[0]!.body).toContain('[pr-7-hello.localhost:8081](http://pr-7-hello.localhost:8081)');

    // A second push promotes a second revision: the same comment shows it.
    const second = await promoteDirectly(rt, { forge: 'github', repo: 'octo/hello', pr: 7, commit: 'b'.repeat(40), ref: 'feature-7' });
    const revision2 = await second.advance();
    await waitFor(async () => (commentsOf(7)[0]?.body.includes(revision2) ? true : undefined), 'the comment to show the second revision');
    expect(commentsOf(7)).toHaveLength(1);
    expect(fake.deployments).toHaveLength(2);

    await postGithub(rt, 'pull_request', githubPr('closed', 7, 'b'.repeat(40)));
    await waitFor(
      async () => (fake.deployments.every((d) => d.statuses.at(-1)?.state === 'inactive') ? true : undefined),
      'every preview deployment to be inactive',
    );
    expect(fake.violations).toEqual([]);
  });

  it('builds a fork once a maintainer approves it with /ok-to-test or the label, never for others (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup();
    const sha = repo.commit({ 'a.txt': 'fork' });
    const [first] = buildIdsOf(await postGithub(rt, 'pull_request', githubPr('opened', 11, sha, { fork: true })));
    await settled(rt, first!);

    const denied = await postGithub(rt, 'issue_comment', githubComment(11, '/ok-to-test', 'reader'));
    expect(denied.reason).toContain('/ok-to-test from reader: runs once GitHub confirms their write access');
    await waitFor(async () => (fake.calls.some((c) => c.path.endsWith('/collaborators/reader/permission')) ? true : undefined), 'the permission check');
    await new Promise((r) => setTimeout(r, 300));
    expect(await getApproval(rt.store.db, 'hello', 11)).toBeUndefined();
    expect(await listChangeRequestBuilds(rt.store.db, 'github', 'octo/hello', 11)).toHaveLength(1);

    await postGithub(rt, 'issue_comment', githubComment(11, 'Looks fine.\n/ok-to-test', 'maintainer'));
    const approval = await waitFor(() => getApproval(rt.store.db, 'hello', 11), 'the approval');
    expect(approval).toMatchObject({ approvedBy: 'maintainer', via: 'comment', commit: sha, forge: 'github', repo: 'octo/hello' });
    const builds = await waitFor(async () => {
      const list = await listChangeRequestBuilds(rt.store.db, 'github', 'octo/hello', 11);
      return list.length === 2 ? list : undefined;
    }, 'the approved build');
    expect(builds[0]!.commit).toBe(sha);
    await settled(rt, builds[0]!.id);
    await waitFor(async () => commentsOf(11).find((c) => c.body.includes('its preview was approved by @maintainer')), 'the comment to show the approval');

    // The label approves too — from someone with write access; a triager may label but not approve.
    const sha2 = repo.commit({ 'a.txt': 'fork 2' });
    await postGithub(rt, 'pull_request', githubPr('opened', 12, sha2, { fork: true }));
    await postGithub(rt, 'pull_request', {
      ...githubPr('labeled', 12, sha2, { fork: true, label: 'slipway/ok-to-preview' }),
      sender: { login: 'triager', id: 3 },
    });
    await waitFor(async () => (fake.calls.some((c) => c.path.endsWith('/collaborators/triager/permission')) ? true : undefined), 'the triager check');
    await new Promise((r) => setTimeout(r, 300));
    expect(await getApproval(rt.store.db, 'hello', 12)).toBeUndefined();
    await postGithub(rt, 'pull_request', {
      ...githubPr('labeled', 12, sha2, { fork: true, label: 'slipway/ok-to-preview' }),
      sender: { login: 'owner', id: 4 },
    });
    expect(await waitFor(() => getApproval(rt.store.db, 'hello', 12), 'the label approval')).toMatchObject({
      approvedBy: 'owner',
      via: 'label',
      commit: sha2,
    });
    expect(fake.violations).toEqual([]);
  });

  it('/retest builds the head commit again as a new build, for writers only (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup();
    const sha = repo.commit({ 'a.txt': 'x' });
    const [first] = buildIdsOf(await postGithub(rt, 'pull_request', githubPr('opened', 21, sha)));
    await settled(rt, first!);
    await postGithub(rt, 'issue_comment', githubComment(21, '/retest', 'maintainer'));
    const retested = await waitFor(async () => {
      const list = await listChangeRequestBuilds(rt.store.db, 'github', 'octo/hello', 21);
      return list.length === 2 ? list[0] : undefined;
    }, 'the retest build');
    expect(retested).toMatchObject({ commit: sha, sender: 'maintainer', prNumber: 21, trigger: 'change_request' });
    expect(retested!.id).not.toBe(first);
    await settled(rt, retested!.id);
    await waitFor(
      async () => (fake.checkRuns.filter((r) => r.head_sha === sha && r.status === 'completed').length === 2 ? true : undefined),
      'a second check run',
    );
    await waitFor(async () => commentsOf(21).find((c) => c.body.includes(retested!.id)), 'the comment to show the retest');

    // A reader's /retest is refused: nothing new.
    await postGithub(rt, 'issue_comment', githubComment(21, '/retest', 'reader'));
    await waitFor(async () => (fake.calls.some((c) => c.path.endsWith('/collaborators/reader/permission')) ? true : undefined), 'the permission check');
    await new Promise((r) => setTimeout(r, 300));
    expect(await listChangeRequestBuilds(rt.store.db, 'github', 'octo/hello', 21)).toHaveLength(2);
    expect(fake.violations).toEqual([]);
  });

  it("/cancel cancels the pull request's running builds and reports them cancelled (strict fake GitHub API)", async () => {
    const { rt } = await setup();
    const running = await promoteDirectly(rt, { forge: 'github', repo: 'octo/hello', pr: 31, commit: 'c'.repeat(40), ref: 'feature-31' });
    await waitFor(async () => fake.checkRuns.find((r) => r.external_id === running.build.id && r.status === 'in_progress'), 'the in_progress check run');
    await postGithub(rt, 'issue_comment', githubComment(31, '/cancel', 'maintainer'));
    const canceled = await settled(rt, running.build.id, ['canceled']);
    expect(canceled.errorMessage).toBe('canceled by maintainer (/cancel)');
    const run = await waitFor(
      async () => fake.checkRuns.find((r) => r.external_id === running.build.id && r.status === 'completed'),
      'the cancelled check run',
    );
    expect(run.conclusion).toBe('cancelled');
    await waitFor(async () => (fake.deployments[0]?.statuses.at(-1)?.state === 'failure' ? true : undefined), 'the deployment to fail');
    expect(fake.violations).toEqual([]);
  });

  it('waits out a secondary rate limit (403 with Retry-After), then reports (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup();
    let limited = 0;
    fake.intercept = (req) => {
      if (req.method === 'POST' && req.path.endsWith('/check-runs') && limited < 1) {
        limited++;
        return {
          status: 403,
          headers: { 'retry-after': '1', 'x-ratelimit-remaining': '4000' },
          body: {
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
            documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          },
        };
      }
      return undefined;
    };
    const sha = repo.commit({ 'a.txt': 'x' });
    const [id] = buildIdsOf(await postGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha })));
    await settled(rt, id!);
    const run = await waitFor(async () => fake.checkRuns.find((r) => r.status === 'completed'), 'the check run after the rate limit');
    expect(run.external_id).toBe(id);
    const posts = fake.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/check-runs'));
    expect(posts.length).toBeGreaterThanOrEqual(2);
    // The retry waited the second GitHub asked for (Retry-After: 1), not the 100 ms backoff.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  }, 30_000);

  it('a GitHub outage (500s, then connection refused) never fails a build; reports arrive once GitHub is back (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup();
    fake.intercept = () => ({ status: 500, body: { message: 'Server Error' } });
    const sha = repo.commit({ 'a.txt': 'x' });
    const [id] = buildIdsOf(await postGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha })));
    const build = await settled(rt, id!);
    // The build ends as it would without any forge: at the build stage, for want of a Dockerfile.
    expect(build.state).toBe('failed');
    expect(build.errorCode).not.toMatch(/^SLW_FORGE/);
    expect(fake.calls.length).toBeGreaterThan(0);
    fake.intercept = undefined;
    const run = await waitFor(async () => fake.checkRuns.find((r) => r.status === 'completed'), 'the check run once GitHub answers again', 30_000);
    expect(run.conclusion).toBe('failure');
    expect(fake.violations).toEqual([]);
  }, 40_000);

  it('with nothing listening at github.apiUrl the build still finishes (connection refused)', async () => {
    fake = await startFakeGithub({ token: GITHUB_TOKEN });
    const closedUrl = fake.url;
    await fake.close();
    const env = await startFeedbackEnv({ github: { webhookSecret: "It's a Secret to Everybody", token: GITHUB_TOKEN, apiUrl: closedUrl } });
    cleanups.push(() => env.cleanup());
    const sha = env.repo.commit({ 'a.txt': 'x' });
    const [id] = buildIdsOf(await postGithub(env.rt, 'push', githubPush({ repo: 'octo/hello', commit: sha })));
    const build = await settled(env.rt, id!);
    expect(build.state).toBe('failed');
    expect(build.errorCode).not.toMatch(/^SLW_FORGE/);
    const counts = await env.rt.feedback.depth();
    expect(counts['delayed']! + counts['waiting']! + counts['active']!).toBeGreaterThan(0);
  });

  it('falls back to commit statuses when the token may not write check runs (strict fake GitHub API)', async () => {
    const { rt, repo } = await setup({ token: GITHUB_TOKEN, checksForbidden: true });
    const sha = repo.commit({ 'a.txt': 'x' });
    const [id] = buildIdsOf(await postGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha })));
    await settled(rt, id!);
    const last = await waitFor(async () => (fake.statuses.at(-1)?.state === 'failure' ? fake.statuses.at(-1) : undefined), 'a failure commit status');
    expect(last).toMatchObject({ sha, context: 'slipway/local', target_url: `http://127.0.0.1:8080/builds/${id}` });
    expect(last!.description!.length).toBeLessThanOrEqual(140);
    expect(fake.statuses.map((s) => s.state)).toContain('pending');
    expect(fake.checkRuns).toHaveLength(0);
    expect(fake.violations).toEqual([]);
  });
});
