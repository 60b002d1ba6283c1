import { afterEach, describe, expect, it } from 'vitest';
import { COMMENT_MARKER } from '../../src/feedback/index.js';
import { listChangeRequestBuilds } from '../../src/store/index.js';
import { waitFor } from '../helpers/runtime.js';
import { hasShared, sharedJson } from '../helpers/shared.js';
import { startFakeGitlab, type FakeGitlab } from './fakes/gitlab-api.js';
import { buildIdsOf, GITLAB_API_TOKEN, postGitlab, promoteDirectly, settled, startFeedbackEnv, type FeedbackEnv } from './setup.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- payloads are edited freely here

const PROJECT = 'group/hello';

/** GitLab's documented MR hook (../shared/fixtures), re-pointed at group/hello. */
function mergeRequest(action: string, iid: number, sha: string, opts: { oldrev?: string; fork?: boolean } = {}): Json {
  const p = sharedJson('gitlab/gitlab-docs/merge-request-hook.json') as Json;
  p.project.path_with_namespace = PROJECT;
  p.project.git_http_url = `http://gitlab.example/${PROJECT}.git`;
  const mr = p.object_attributes;
  mr.iid = iid;
  mr.action = action;
  mr.last_commit.id = sha;
  mr.source_project_id = 14;
  mr.target_project_id = opts.fork ? 15 : 14;
  if (opts.oldrev) mr.oldrev = opts.oldrev;
  return p;
}

/** GitLab's documented note on a merge request (go-gitlab's fixture), with `body` by user `id`. */
function note(iid: number, body: string, user: { id: number; username: string }, sha: string): Json {
  const p = sharedJson('gitlab/xanzy-go-gitlab/note_merge_request.json') as Json;
  p.project.path_with_namespace = PROJECT;
  p.project.git_http_url = `http://gitlab.example/${PROJECT}.git`;
  p.user = { ...p.user, ...user };
  p.object_attributes.note = body;
  p.merge_request.iid = iid;
  p.merge_request.last_commit.id = sha;
  return p;
}

describe.skipIf(!hasShared())('forge feedback on GitLab (strict fake GitLab API; payloads from ../shared/fixtures/gitlab)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let fake: FakeGitlab;
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function setup(): Promise<FeedbackEnv> {
    fake = await startFakeGitlab({ token: GITLAB_API_TOKEN, project: PROJECT, members: { 30: 30, 20: 20 } });
    cleanups.push(() => fake.close());
    const env = await startFeedbackEnv(
      { gitlab: { webhookToken: 'gitlab-test-token', token: GITLAB_API_TOKEN, apiUrl: `${fake.url}/api/v4` } },
      { repo: `gitlab:${PROJECT}` },
    );
    cleanups.push(() => env.cleanup());
    return env;
  }

  it('sets commit statuses pending → running → failed and keeps one merge request note across pushes (strict fake GitLab API)', async () => {
    const { rt, repo } = await setup();
    const sha1 = repo.commit({ 'a.txt': '1' });
    const sha2 = repo.commit({ 'a.txt': '2' });
    const [first] = buildIdsOf(await postGitlab(rt, 'Merge Request Hook', mergeRequest('open', 4, sha1)));
    await settled(rt, first!);
    const [second] = buildIdsOf(await postGitlab(rt, 'Merge Request Hook', mergeRequest('update', 4, sha2, { oldrev: sha1 })));
    await settled(rt, second!);
    await waitFor(async () => (fake.statuses.some((s) => s.sha === sha2 && s.status === 'failed') ? true : undefined), 'the failed status of the second build');
    const forSha2 = fake.statuses.filter((s) => s.sha === sha2);
    // In order, never backwards; reports that queued while a newer state existed coalesce into it.
    const order = ['pending', 'running', 'failed'];
    const seen = forSha2.map((s) => order.indexOf(s.status));
    expect(seen).toEqual([...seen].sort());
    expect(forSha2.at(-1)!.status).toBe('failed');
    expect(forSha2[0]).toMatchObject({ name: 'slipway/local', ref: 'ms-viewport', target_url: `http://127.0.0.1:8080/builds/${second}` });
    const notes = await waitFor(async () => {
      const list = fake.notes.get(4) ?? [];
      return list.length === 1 && list[0]!.body.includes(second!) && list[0]!.body.includes('❌ failed') ? list : undefined;
    }, 'one note showing the second build');
    expect(notes[0]!.body).toContain(COMMENT_MARKER);
    expect(fake.violations).toEqual([]);
  });

  it('/retest from a Developer rebuilds; a Reporter is refused (strict fake GitLab API)', async () => {
    const { rt, repo } = await setup();
    const sha = repo.commit({ 'a.txt': 'x' });
    const [first] = buildIdsOf(await postGitlab(rt, 'Merge Request Hook', mergeRequest('open', 6, sha)));
    await settled(rt, first!);
    await postGitlab(rt, 'Note Hook', note(6, '/retest', { id: 20, username: 'reporter' }, sha));
    await waitFor(async () => (fake.calls.some((c) => c.path.endsWith('/members/all/20')) ? true : undefined), 'the membership check');
    await new Promise((r) => setTimeout(r, 300));
    expect(await listChangeRequestBuilds(rt.store.db, 'gitlab', PROJECT, 6)).toHaveLength(1);
    await postGitlab(rt, 'Note Hook', note(6, '/retest', { id: 30, username: 'developer' }, sha));
    const retested = await waitFor(async () => {
      const list = await listChangeRequestBuilds(rt.store.db, 'gitlab', PROJECT, 6);
      return list.length === 2 ? list[0] : undefined;
    }, 'the retest build');
    expect(retested).toMatchObject({ commit: sha, sender: 'developer' });
    expect(fake.violations).toEqual([]);
  });

  it('deploys a preview to environment preview/mr-<iid> with its URL and stops it when the merge request closes (strict fake GitLab API)', async () => {
    const { rt } = await setup();
    const promo = await promoteDirectly(rt, { forge: 'gitlab', repo: PROJECT, pr: 8, commit: 'd'.repeat(40), ref: 'feature-8' });
    await waitFor(async () => (fake.deployments[0]?.status === 'running' ? true : undefined), 'a running deployment');
    await promo.advance();
    await waitFor(async () => (fake.deployments[0]?.status === 'success' ? true : undefined), 'the deployment to succeed');
    expect(fake.deployments[0]!.history).toEqual(['running', 'success']);
    expect(fake.environments).toEqual([
      expect.objectContaining({ name: 'preview/mr-8', external_url: 'http://mr-8-hello.localhost:8081', state: 'available' }),
    ]);
    await postGitlab(rt, 'Merge Request Hook', mergeRequest('close', 8, 'd'.repeat(40)));
    await waitFor(async () => (fake.environments[0]?.state === 'stopped' ? true : undefined), 'the environment to stop');
    expect(fake.violations).toEqual([]);
  });
});
