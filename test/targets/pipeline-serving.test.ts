import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild, listStages, logsAfter, recordApproval } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { getWithHost } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { API_AUTH, buildEnded, deliverGithub, servingApp, startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime } from '../helpers/runtime.js';
import { githubPullRequest, githubPush, signedGithub } from '../helpers/webhooks.js';

/**
 * Serving through the whole pipeline: a push to main moves the app URL to the new
 * revision; a pull request gets a working preview URL that disappears when it closes. Real git,
 * BuildKit, registry, injection, signing, Docker Engine and the router.
 */
describe('serving through the pipeline (real BuildKit, registry, Docker Engine, router)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;
  let router: string;

  beforeAll(async () => {
    repo = new TestRepo();
    const port = await freePort();
    router = `http://127.0.0.1:${port}`;
    rt = await startTestRuntime({
      router: true,
      config: {
        targets: { local: { kind: 'local', listen: `127.0.0.1:${port}`, domain: 'slipway.test' } },
        apps: [{ name: 'web', repo: 'github:octo/web', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' } }],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
  });

  const deliver = (event: string, payload: unknown) => deliverGithub(rt, event, payload);
  const ready = (id: string) => buildEnded(rt, id);
  /** Routes reach the router within about a second of a promotion (it re-reads the store). */
  const eventually = (host: string, expected: { status: number; body?: string }) =>
    waitFor(
      async () => {
        const r = await get(host);
        return r.status === expected.status && (expected.body === undefined || r.body === expected.body) ? r : undefined;
      },
      `${host} to answer ${expected.status}${expected.body ? ` ${JSON.stringify(expected.body)}` : ''}`,
      15_000,
    );
  const get = (host: string) => getWithHost(router, host);

  it('a push to main serves the new revision at the app URL, and the next push replaces it', async () => {
    const first = await deliver('push', githubPush({ repo: 'octo/web', commit: repo.commit(servingApp('first\n')) }));
    const one = await ready(first.builds[0]!.id);
    expect(one.state).toBe('ready');
    const promote = (await listStages(rt.store.db, one.id)).find((s) => s.stage === 'promote');
    expect(JSON.parse(promote!.output!)).toMatchObject({ revision: 'web-1', url: 'http://web.slipway.test', moved: true });
    expect(await eventually('web.slipway.test', { status: 200, body: 'first\n' })).toMatchObject({ revision: 'web-1' });

    const second = await deliver('push', githubPush({ repo: 'octo/web', commit: repo.commit(servingApp('second\n')) }));
    expect((await ready(second.builds[0]!.id)).state).toBe('ready');
    expect(await eventually('web.slipway.test', { status: 200, body: 'second\n' })).toMatchObject({ revision: 'web-2' });
    const revisions = (await rt.server!.inject({ method: 'GET', url: '/api/v1/apps/web/revisions', headers: API_AUTH })).json();
    expect(JSON.stringify(revisions)).toContain('web-2');
  });

  it('a pull request gets a preview URL at 0% that disappears when it closes', async () => {
    const sha = repo.commit(servingApp('preview\n'), 'feature');
    const opened = await deliver('pull_request', githubPullRequest({ repo: 'octo/web', action: 'opened', number: 12, headSha: sha }));
    expect((await ready(opened.builds[0]!.id)).state).toBe('ready');
    await eventually('pr-12-web.slipway.test', { status: 200, body: 'preview\n' });
    // The app itself still serves main.
    expect((await get('web.slipway.test')).body).toBe('second\n');

    const closed = await deliver('pull_request', githubPullRequest({ repo: 'octo/web', action: 'closed', number: 12, headSha: sha }));
    expect(closed.reason).toMatch(/closed/);
    expect((await eventually('pr-12-web.slipway.test', { status: 404 })).body).toMatch(/pr-12-web\.slipway\.test/);
    expect((await get('web.slipway.test')).body).toBe('second\n');
  });
});

describe('fork previews wait for a maintainer (real pipeline and router)', () => {
  it('a fork pull request builds, but is signed and gets a preview only once approved', async () => {
    const repo = new TestRepo();
    const port = await freePort();
    const rt = await startTestRuntime({
      router: true,
      config: {
        targets: { local: { kind: 'local', listen: `127.0.0.1:${port}`, domain: 'slipway.test' } },
        apps: [{ name: 'forked', repo: 'github:octo/forked', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' } }],
      },
    });
    try {
      const deliver = async (sha: string, action: string) => {
        const req = signedGithub('pull_request', githubPullRequest({ repo: 'octo/forked', action, number: 5, headSha: sha, fork: true }), WEBHOOK_SECRET);
        const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
        const id = res.json().builds[0].id as string;
        return waitFor(
          async () => {
            const b = await getBuild(rt.store.db, id);
            return b && ['built', 'signed', 'ready', 'failed', 'rejected'].includes(b.state) ? b : undefined;
          },
          'the fork build to end',
          90_000,
        );
      };
      const first = await deliver(repo.commit(servingApp('from a fork\n'), 'fork'), 'opened');
      // Not signed either: a trusted signature would make what a stranger's code built promotable.
      expect(first).toMatchObject({ state: 'built', fork: true });
      const lines = (await logsAfter(rt.store.db, first.id)).map((l) => l.line);
      expect(lines).toContain(
        "promote skipped: pull request #5 comes from a fork: its preview waits for a maintainer's /ok-to-test comment or the slipway/ok-to-preview label",
      );
      expect(lines).toContain(
        "sign skipped: pull request #5 comes from a fork: its preview waits for a maintainer's /ok-to-test comment or the slipway/ok-to-preview label",
      );
      expect((await listStages(rt.store.db, first.id)).some((s) => ['sign', 'policy-promote', 'promote'].includes(s.stage))).toBe(false);

      await recordApproval(rt.store.db, {
        app: 'forked',
        prNumber: 5,
        forge: 'github',
        repo: 'octo/forked',
        approvedBy: 'maintainer',
        via: 'comment',
        commit: first.commit,
      });
      const second = await deliver(repo.commit(servingApp('approved fork\n'), 'fork'), 'synchronize');
      expect(second.state).toBe('ready');
    } finally {
      await rt.stop();
      repo.cleanup();
    }
  });
});
