import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForge } from '../../src/forges/registry.js';
import { buildApp, removeTestContainers, testId } from '../targets/helpers.js';
import { startFakeGithub, type FakeGithub } from './fakes/github-api.js';
import { startFakeGitlab, type FakeGitlab } from './fakes/gitlab-api.js';
import { GITHUB_TOKEN, GITLAB_API_TOKEN, startFeedbackEnv, type FeedbackEnv } from './setup.js';

/**
 * The preview reconciler: previews whose pull request closed without Slipway hearing of it, or
 * whose last push is older than the app's preview ttl, lose their tag. The runtime is real (server process,
 * store, the local target's real containers); GitHub and GitLab are strict fakes on loopback.
 */

const build = (n: number) => ({
  buildId: `b-${String(n).padStart(4, '0')}`,
  commit: String(n % 10).repeat(40),
  buildCreatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
});

describe('preview reconciler against the local target (strict fake GitHub API)', () => {
  const id = testId();
  let fake: FakeGithub;
  let env: FeedbackEnv;
  let images: string[];

  beforeAll(async () => {
    const repo = `slipway-test/previews-${id}`;
    images = [await buildApp(repo, 'main'), await buildApp(repo, 'pr7'), await buildApp(repo, 'pr8')];
    // #7 was closed while Slipway was down (no close event arrived); #8 is open; #9 was merged.
    fake = await startFakeGithub({ token: GITHUB_TOKEN, pullRequests: { 7: 'closed', 8: 'open', 9: 'merged' } });
    env = await startFeedbackEnv(
      { github: { webhookSecret: "It's a Secret to Everybody", token: GITHUB_TOKEN, apiUrl: fake.url } },
      { previews: { target: 'local', ttl: '1h' } },
    );
  }, 180_000);

  afterAll(async () => {
    await env?.cleanup();
    await fake?.close();
    await removeTestContainers(id);
  });

  it('removes the tags of closed and merged pull requests, keeps open ones until the ttl passes, and leaves production alone', async () => {
    const target = env.rt.targets.get('local')!;
    await target.promote('hello', { image: images[0]!, ...build(1) });
    await target.promote('hello', { image: images[1]!, ...build(2), tag: 'pr-7' });
    await target.promote('hello', { image: images[2]!, ...build(3), tag: 'pr-8' });
    await target.promote('hello', { image: images[2]!, ...build(4), tag: 'pr-9' });
    expect((await target.status('hello')).traffic.map((t) => t.tag ?? `${t.percent}%`)).toEqual(['100%', 'pr-7', 'pr-8', 'pr-9']);

    const removed = await env.rt.previews!.runOnce();
    expect(removed.map((r) => `${r.tag}: ${r.reason}`)).toEqual(['pr-7: pull request #7 is no longer open', 'pr-9: pull request #9 is no longer open']);
    expect((await target.status('hello')).traffic.map((t) => t.tag ?? `${t.revisionName}=${t.percent}%`)).toEqual(['hello-1=100%', 'pr-8']);
    // Sweeping again changes nothing, and does not ask GitHub about #8 again so soon; ten minutes later it does.
    const asked = () => fake.calls.filter((c) => c.path.endsWith('/pulls/8')).length;
    const before = asked();
    expect(await env.rt.previews!.runOnce()).toEqual([]);
    expect(asked()).toBe(before);
    expect(await env.rt.previews!.runOnce(Date.now() + 11 * 60_000)).toEqual([]);
    expect(asked()).toBe(before + 1);

    // Two hours later the open pull request's preview is past the 1 h ttl.
    const later = await env.rt.previews!.runOnce(Date.now() + 2 * 3_600_000);
    expect(later).toEqual([{ tag: 'pr-8', revision: 'hello-3', reason: expect.stringMatching(/^its last push was 2 h ago, beyond the preview ttl of 1 h$/) }]);
    expect((await target.status('hello')).traffic).toEqual([expect.objectContaining({ revisionName: 'hello-1', percent: 100 })]);
    expect(fake.violations).toEqual([]);
  });

  it('keeps a preview when the forge cannot say whether its pull request is open', async () => {
    const target = env.rt.targets.get('local')!;
    await target.promote('hello', { image: images[1]!, ...build(10), tag: 'pr-404' });
    // GitHub answers 502 for a while: unknown is not closed.
    fake.intercept = (req) => (req.path.includes('/pulls/') ? { status: 502, body: { message: 'Server Error' } } : undefined);
    try {
      expect(await env.rt.previews!.runOnce()).toEqual([]);
    } finally {
      fake.intercept = undefined;
    }
    expect((await target.status('hello')).traffic.some((t) => t.tag === 'pr-404')).toBe(true);
    // Once GitHub answers again (it does not know #404: not open), the next sweep removes it.
    expect((await env.rt.previews!.runOnce()).map((r) => r.tag)).toEqual(['pr-404']);
  });
});

describe('change request state on each forge (strict fake APIs)', () => {
  let github: FakeGithub;
  let gitlab: FakeGitlab;
  beforeAll(async () => {
    github = await startFakeGithub({ token: GITHUB_TOKEN, pullRequests: { 1: 'open', 2: 'closed', 3: 'merged' } });
    gitlab = await startFakeGitlab({ token: GITLAB_API_TOKEN, project: 'group/app', mergeRequests: { 1: 'opened', 2: 'closed', 3: 'merged', 4: 'locked' } });
  });
  afterAll(async () => {
    await github?.close();
    await gitlab?.close();
  });

  it('GitHub: open is open; closed, merged and unknown pull requests are not', async () => {
    const forge = createForge('github', { secret: 's', api: { url: github.url, token: GITHUB_TOKEN } });
    const open = await Promise.all([1, 2, 3, 99].map((n) => forge.feedback!.changeRequestOpen('octo/hello', n)));
    expect(open).toEqual([true, false, false, false]);
    expect(github.violations).toEqual([]);
  });

  it('GitLab: opened and locked are open; closed, merged and unknown merge requests are not', async () => {
    const forge = createForge('gitlab', { secret: 's', api: { url: `${gitlab.url}/api/v4`, token: GITLAB_API_TOKEN } });
    const open = await Promise.all([1, 2, 3, 4, 99].map((n) => forge.feedback!.changeRequestOpen('group/app', n)));
    expect(open).toEqual([true, false, false, true, false]);
    expect(gitlab.violations).toEqual([]);
  });
});
