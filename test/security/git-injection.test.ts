import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuild, listBuilds } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { buildEnded, startTestRuntime, WEBHOOK_SECRET, type TestRuntime } from '../helpers/runtime.js';
import { githubPullRequest, githubPush, signedGithub } from '../helpers/webhooks.js';

/**
 * A push whose `after` was `--upload-pack=<command>;git-upload-pack` ran the command on the worker. Every
 * event field that reaches git is validated where the delivery is parsed, checked again where git runs,
 * and git gets `--end-of-options` and only the transport the source needs.
 */
const marker = () => join(mkdtempSync(join(tmpdir(), 'slipway-pwned-')), 'pwned');

/** Values an attacker puts into fields that end up in argv, a URL or a ref. */
const HOSTILE = (file: string) => [
  `--upload-pack=touch ${file};git-upload-pack`,
  `-c core.sshCommand=touch ${file}`,
  `$(touch ${file})`,
  `\`touch ${file}\``,
  `; touch ${file}`,
  `a | touch ${file}`,
  'HEAD~1',
  'main@{-1}',
  '../../../../etc/passwd',
  'A'.repeat(40),
  'a'.repeat(39),
  `${'a'.repeat(40)}\n--upload-pack=x`,
  'a'.repeat(40) + '\u0000',
  '\u202emain',
  'ｍａｉｎ --help',
];

describe('webhook fields never reach git unvalidated (real server, worker, git)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;
  beforeAll(async () => {
    repo = new TestRepo();
    rt = await startTestRuntime({
      config: {
        apps: [
          { name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' } },
          { name: 'derived', repo: 'github:octo/derived', branches: { main: 'local' } },
        ],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
  });

  const deliver = async (event: string, payload: unknown) => {
    const req = signedGithub(event, payload, WEBHOOK_SECRET);
    return rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
  };

  type Edit = (p: Record<string, any>, v: string) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  const PUSH_FIELDS: [string, Edit][] = [
    ['after', (p, v) => ((p.after = v), p.head_commit && (p.head_commit.id = v))],
    ['before', (p, v) => (p.before = v)],
    ['head_commit.id', (p, v) => (p.head_commit.id = v)],
    ['ref', (p, v) => (p.ref = `refs/heads/${v}`)],
    ['repository.full_name', (p, v) => (p.repository.full_name = `octo/${v}`)],
  ];
  const PR_FIELDS: [string, Edit][] = [
    ['pull_request.head.sha', (p, v) => (p.pull_request.head.sha = v)],
    ['pull_request.head.ref', (p, v) => (p.pull_request.head.ref = v)],
    ['pull_request.head.repo.full_name', (p, v) => (p.pull_request.head.repo.full_name = `x/${v}`)],
  ];

  it.each(PUSH_FIELDS)('a push with a hostile %s is refused as malformed and stores nothing', async (_field, edit) => {
    const file = marker();
    for (const value of HOSTILE(file)) {
      const payload = githubPush({ repo: 'octo/hello', commit: 'a'.repeat(40) });
      edit(payload, value);
      const res = await deliver('push', payload);
      // A unicode branch name is a valid git ref: it may build, but only with validated fields.
      if (res.statusCode === 202) {
        for (const b of res.json().builds as { commit: string }[]) expect(b.commit).toMatch(/^[0-9a-f]{40}$/);
      } else {
        expect(res.statusCode, `${JSON.stringify(value)} answered ${res.statusCode}`).toBe(400);
        expect(res.json()).toMatchObject({ code: 'SLW_WEBHOOK_MALFORMED' });
      }
    }
    expect(existsSync(file)).toBe(false);
  });

  it.each(PR_FIELDS)('a pull request with a hostile %s is refused as malformed', async (_field, edit) => {
    for (const value of HOSTILE(marker())) {
      const payload = githubPullRequest({ repo: 'octo/hello', action: 'opened', number: 7, headSha: 'b'.repeat(40), fork: true });
      edit(payload, value);
      const res = await deliver('pull_request', payload);
      if (res.statusCode === 202) {
        for (const b of res.json().builds as { commit: string }[]) expect(b.commit).toMatch(/^[0-9a-f]{40}$/);
      } else expect(res.statusCode, `${JSON.stringify(value)} answered ${res.statusCode}`).toBe(400);
    }
  });

  it('takes the clone URL from github.gitUrl and the repository path, never from the payload (SSRF)', async () => {
    for (const url of ['file:///etc', 'http://127.0.0.1:6379/', 'ext::sh -c touch% /tmp/x', `${repo.bare}`, 'git://169.254.169.254/x']) {
      const payload = githubPush({ repo: 'octo/derived', commit: 'c'.repeat(40) });
      payload.repository.clone_url = url;
      const res = await deliver('push', payload);
      expect(res.statusCode).toBe(202);
    }
    const builds = await listBuilds(rt.store.db, { app: 'derived' });
    expect(builds.length).toBeGreaterThan(0);
    for (const b of builds) expect(b.cloneUrl).toBe('https://github.com/octo/derived.git');
  });

  it.each([
    ['an option-shaped commit', { commit: `--upload-pack=touch MARKER;git-upload-pack` }, 'SLW_FETCH_COMMIT_MISSING'],
    ['a commit with a newline and an option', { commit: `${'a'.repeat(40)}\n--upload-pack=touch MARKER` }, 'SLW_FETCH_COMMIT_MISSING'],
    ['an ext:: clone URL', { cloneUrl: 'ext::sh -c touch% MARKER' }, 'SLW_FETCH_SOURCE_REFUSED'],
    ['an option-shaped clone URL', { cloneUrl: '--upload-pack=touch MARKER' }, 'SLW_FETCH_SOURCE_REFUSED'],
    ['another host', { cloneUrl: 'https://evil.example/octo/derived.git' }, 'SLW_FETCH_SOURCE_REFUSED'],
    ["another app's local repository", { cloneUrl: 'REPO' }, 'SLW_FETCH_SOURCE_REFUSED'],
    ['an internal address', { cloneUrl: 'http://127.0.0.1:6379/x.git' }, 'SLW_FETCH_SOURCE_REFUSED'],
  ])('a stored build with %s fails at fetch and runs nothing', async (_what, bad, code) => {
    const file = marker();
    const commit = (bad as { commit?: string }).commit?.replace('MARKER', file) ?? 'd'.repeat(40);
    // A bad commit is tried against the app fetching from a local repository, where git honours
    // --upload-pack (the attack run's command execution); a bad URL against the app with a derived one.
    const app = (bad as { commit?: string }).commit ? 'hello' : 'derived';
    const cloneUrl = ((bad as { cloneUrl?: string }).cloneUrl ?? (app === 'hello' ? repo.bare : 'https://github.com/octo/derived.git'))
      .replace('MARKER', file)
      .replace('REPO', repo.bare);
    // As if admitted by an older version or written into the store directly: the worker checks again.
    const { build } = await createBuild(rt.store.db, {
      app,
      target: 'local',
      commit,
      ref: 'refs/heads/main',
      scope: `branch:x-${Math.random()}`,
      trigger: 'push',
      cloneUrl,
      forge: 'github',
      repo: `octo/${app}`,
    });
    await rt.queue.enqueue([build.id]);
    const ended = await buildEnded(rt, build.id, 30_000);
    expect(ended.state).toBe('failed');
    expect(ended.errorCode).toBe(code);
    expect(existsSync(file)).toBe(false);
    rmSync(join(file, '..'), { recursive: true, force: true });
  });
});
