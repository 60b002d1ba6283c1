import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { getBuild, listBuilds } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { hasShared, sharedJson } from '../helpers/shared.js';
import { API_AUTH, GITLAB_TOKEN, startTestRuntime, WEBHOOK_SECRET, type TestRuntime } from '../helpers/runtime.js';
import { githubPullRequest, githubPush, gitlabRequest, signedGithub } from '../helpers/webhooks.js';

describe('webhook routes (real SQLite, Redis, git)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;

  beforeAll(async () => {
    repo = new TestRepo();
    rt = await startTestRuntime({
      worker: false, // these tests look at what the route stores and enqueues; pipeline.test.ts runs builds
      config: {
        apps: [
          { name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' } },
          { name: 'lab', repo: 'gitlab:mike/diaspora', cloneUrl: repo.bare, branches: { master: 'local' } },
        ],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
  });

  const post = (path: string, req: { headers: Record<string, string>; body: string | Buffer }) =>
    rt.server!.inject({ method: 'POST', url: path, headers: req.headers, payload: req.body });

  it('accepts a signed push for a configured app: 202, one queued build, one job', async () => {
    const sha = repo.commit({ 'a.txt': 'a' });
    const res = await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'octo/hello', commit: sha }), WEBHOOK_SECRET));
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.duplicate).toBe(false);
    expect(body.builds).toHaveLength(1);
    expect(body.builds[0]).toMatchObject({ app: 'hello', target: 'local', commit: sha, state: 'queued', ref: 'refs/heads/main' });
    const job = await rt.queue.queue.getJob(body.builds[0].id);
    expect(job?.data).toEqual({ buildId: body.builds[0].id });
  });

  it('answers the same delivery id again with duplicate:true and no new build', async () => {
    const sha = repo.commit({ 'b.txt': 'b' });
    const req = signedGithub('push', githubPush({ repo: 'octo/hello', commit: sha }), WEBHOOK_SECRET);
    const first = (await post('/webhooks/github', req)).json();
    const before = (await listBuilds(rt.store.db, { app: 'hello', limit: 500 })).length;
    const again = await post('/webhooks/github', req);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ duplicate: true, builds: [{ id: first.builds[0].id }] });
    expect((await listBuilds(rt.store.db, { app: 'hello', limit: 500 })).length).toBe(before);
  });

  it('makes one build when the same commit arrives in two deliveries', async () => {
    const sha = repo.commit({ 'c.txt': 'c' });
    const a = (await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'octo/hello', commit: sha }), WEBHOOK_SECRET))).json();
    const b = (await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'octo/hello', commit: sha }), WEBHOOK_SECRET))).json();
    expect(b.duplicate).toBe(false);
    expect(b.builds[0].id).toBe(a.builds[0].id);
  });

  it('cancels the queued build of an older commit when a newer push arrives', async () => {
    const older = (
      await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'octo/hello', commit: repo.commit({ 'd.txt': '1' }) }), WEBHOOK_SECRET))
    ).json();
    const newer = (
      await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'octo/hello', commit: repo.commit({ 'd.txt': '2' }) }), WEBHOOK_SECRET))
    ).json();
    const row = await getBuild(rt.store.db, older.builds[0].id);
    expect(row).toMatchObject({ state: 'canceled', supersededBy: newer.builds[0].id });
    // The queued job is gone, so no worker will even pick it up.
    expect(await rt.queue.queue.getJob(older.builds[0].id)).toBeUndefined();
  });

  it.each([
    ['no signature', (h: Record<string, string>) => delete h['x-hub-signature-256']],
    ['a wrong signature', (h: Record<string, string>) => (h['x-hub-signature-256'] = `sha256=${'0'.repeat(64)}`)],
    [
      'a signature made with another secret',
      (h: Record<string, string>) => (h['x-hub-signature-256'] = `sha256=${createHmac('sha256', 'nope').update('x').digest('hex')}`),
    ],
    ['a malformed signature header', (h: Record<string, string>) => (h['x-hub-signature-256'] = 'md5=abc')],
  ])('refuses a GitHub delivery with %s: 401 problem+json that echoes nothing', async (_name, mutate) => {
    const req = signedGithub('push', githubPush({ repo: 'octo/hello', commit: 'f'.repeat(40) }), WEBHOOK_SECRET);
    const expected = req.headers['x-hub-signature-256']!;
    mutate(req.headers);
    const res = await post('/webhooks/github', req);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 401, code: 'SLW_WEBHOOK_SIGNATURE' });
    expect(res.body).not.toContain(expected.slice(7));
    expect(res.body).not.toContain(WEBHOOK_SECRET);
  });

  it('accepts GitHub form-encoded deliveries (payload=…), verified over the encoded bytes', async () => {
    const sha = repo.commit({ 'e.txt': 'e' });
    const body = new URLSearchParams({ payload: JSON.stringify(githubPush({ repo: 'octo/hello', commit: sha })) }).toString();
    const res = await post('/webhooks/github', {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-github-delivery': `form-${sha}`,
        'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
      },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().builds[0]).toMatchObject({ commit: sha });
  });

  it('answers 400 for a signed body that is not JSON, naming the problem', async () => {
    const body = '{"ref": ';
    const res = await post('/webhooks/github', {
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'bad-json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'SLW_WEBHOOK_MALFORMED' });
  });

  it('answers 415 for another content type', async () => {
    const req = signedGithub('push', githubPush({ repo: 'octo/hello', commit: 'a'.repeat(40) }), WEBHOOK_SECRET);
    req.headers['content-type'] = 'text/plain';
    const res = await post('/webhooks/github', req);
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'SLW_WEBHOOK_MEDIA_TYPE' });
  });

  it('answers 413 for a body over 25 MB without reading it all', async () => {
    const res = await post('/webhooks/github', {
      body: Buffer.alloc(25 * 1024 * 1024 + 1, 0x20),
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'big', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'SLW_WEBHOOK_TOO_LARGE' });
  });

  it('answers 202 with a reason for a repository no app names, and builds nothing', async () => {
    const res = await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'someone/else', commit: 'b'.repeat(40) }), WEBHOOK_SECRET));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      builds: [],
      duplicate: false,
      reason: 'no app is configured for github:someone/else: add one under apps with repo: "github:someone/else"',
    });
  });

  it('ignores a branch deletion and a branch no target is mapped to, with reasons', async () => {
    const del = await post('/webhooks/github', signedGithub('push', githubPush({ repo: 'octo/hello', commit: 'c'.repeat(40), deleted: true }), WEBHOOK_SECRET));
    expect(del.statusCode).toBe(202);
    expect(del.json().builds).toEqual([]);
    expect(del.json().reason).toMatch(/deleted/);
    const other = await post(
      '/webhooks/github',
      signedGithub('push', githubPush({ repo: 'octo/hello', branch: 'dev', commit: 'd'.repeat(40) }), WEBHOOK_SECRET),
    );
    expect(other.json()).toMatchObject({ builds: [], reason: 'push to branch "dev": app hello builds "main"' });
  });

  it('builds a pull request preview and cancels it when the pull request closes', async () => {
    const sha = repo.commit({ 'pr.txt': '1' }, 'feature');
    const opened = await post(
      '/webhooks/github',
      signedGithub('pull_request', githubPullRequest({ repo: 'octo/hello', action: 'opened', number: 7, headSha: sha }), WEBHOOK_SECRET),
    );
    expect(opened.statusCode).toBe(202);
    const build = opened.json().builds[0];
    expect(build).toMatchObject({ prNumber: 7, commit: sha, state: 'queued', fork: false });
    const closed = await post(
      '/webhooks/github',
      signedGithub('pull_request', githubPullRequest({ repo: 'octo/hello', action: 'closed', number: 7, headSha: sha }), WEBHOOK_SECRET),
    );
    expect(closed.json().reason).toMatch(/canceled/);
    expect((await getBuild(rt.store.db, build.id))!.state).toBe('canceled');
  });

  it("leaves a closed pull request's preview removal to a worker: the request only queues it", async () => {
    const sha = repo.commit({ 'pr8.txt': '1' }, 'feature-8');
    const opened = (
      await post(
        '/webhooks/github',
        signedGithub('pull_request', githubPullRequest({ repo: 'octo/hello', action: 'opened', number: 8, headSha: sha }), WEBHOOK_SECRET),
      )
    ).json();
    await post(
      '/webhooks/github',
      signedGithub('pull_request', githubPullRequest({ repo: 'octo/hello', action: 'closed', number: 8, headSha: sha }), WEBHOOK_SECRET),
    );
    // No worker runs here: the removal waits on the feedback queue instead of happening in the request.
    const job = await rt.feedback.queue.getJob('unpreview~hello~local~github~8');
    expect(job?.data).toEqual({ kind: 'unpreview', app: 'hello', target: 'local', forge: 'github', number: 8 });
    expect(await getBuild(rt.store.db, opened.builds[0].id)).toMatchObject({ state: 'canceled', errorMessage: 'pull request #8 was closed' });
  });

  it('answers ping with 202 and no build', async () => {
    const ping = await post(
      '/webhooks/github',
      signedGithub(
        'ping',
        {
          zen: 'Keep it logically awesome.',
          hook_id: 1,
          hook: { type: 'Repository', id: 1, events: ['push'] },
          repository: githubPush({ repo: 'octo/hello', commit: 'a'.repeat(40) }).repository,
          sender: { login: 'octocat' },
        },
        WEBHOOK_SECRET,
      ),
    );
    expect(ping.statusCode).toBe(202);
    expect(ping.json().builds).toEqual([]);
    expect(ping.json().reason).toMatch(/^ping/);
  });

  describe.skipIf(!hasShared())('GitLab (payloads from ../shared/fixtures/gitlab; skipped when ../shared is absent)', () => {
    const push = (sha: string) => {
      const payload = sharedJson('gitlab/gitlab-docs/push-hook.json') as Record<string, unknown>;
      payload.after = sha;
      payload.checkout_sha = sha;
      return payload;
    };

    it('accepts a push with the right token and builds it', async () => {
      const sha = repo.commit({ 'gl.txt': 'x' }, 'master');
      const res = await post('/webhooks/gitlab', gitlabRequest('Push Hook', push(sha), GITLAB_TOKEN));
      expect(res.statusCode).toBe(202);
      expect(res.json().builds[0]).toMatchObject({ app: 'lab', commit: sha, forge: 'gitlab', ref: 'refs/heads/master' });
    });

    it.each([
      ['a missing token', undefined],
      ['a wrong token', 'nope'],
      ['a token differing only in length', `${GITLAB_TOKEN}x`],
    ])('refuses %s with 401', async (_n, token) => {
      const res = await post('/webhooks/gitlab', gitlabRequest('Push Hook', push('a'.repeat(40)), token));
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'SLW_WEBHOOK_SIGNATURE' });
      expect(res.body).not.toContain(GITLAB_TOKEN);
    });

    it('answers 202 with a reason for an event it does not build (a 4xx would disable the hook)', async () => {
      const res = await post('/webhooks/gitlab', gitlabRequest('Pipeline Hook', sharedJson('gitlab/xanzy-go-gitlab/pipeline.json'), GITLAB_TOKEN));
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ builds: [], duplicate: false, reason: 'unsupported event "Pipeline Hook"' });
    });
  });

  it('refuses every webhook when no secret is configured (fail closed)', async () => {
    const open = await startTestRuntime({ worker: false, config: { github: {}, gitlab: {} } });
    try {
      const res = await open.server!.inject({
        method: 'POST',
        url: '/webhooks/github',
        ...(() => {
          const r = signedGithub('push', githubPush({ repo: 'octo/hello', commit: 'a'.repeat(40) }), WEBHOOK_SECRET);
          return { headers: r.headers, payload: r.body };
        })(),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'SLW_WEBHOOK_NOT_CONFIGURED' });
    } finally {
      await open.stop();
    }
  });

  it('counts webhooks by result in /metrics', async () => {
    const res = await rt.server!.inject({ method: 'GET', url: '/metrics', headers: API_AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/slipway_webhooks_total\{forge="github",result="accepted"\} \d+/);
    expect(res.body).toMatch(/slipway_webhooks_total\{forge="github",result="unauthorized"\} [4-9]/);
    expect(res.body).toMatch(/slipway_queue_jobs\{state="waiting"\} \d+/);
  });
});
