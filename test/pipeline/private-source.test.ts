import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logsAfter } from '../../src/store/index.js';
import { startFakeGithub, type FakeGithub } from '../feedback/fakes/github-api.js';
import { filesUnder } from '../helpers/files.js';
import { GitHttpServer, type GitHttpOptions } from '../helpers/git-http.js';
import { TestRepo } from '../helpers/git.js';
import {
  API_AUTH,
  buildEnded,
  deliverGithub,
  FINAL_STATE,
  servingApp,
  startTestRuntime,
  waitFor,
  WEBHOOK_SECRET,
  type TestRuntime,
} from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';

/**
 * A private GitHub repository: real git over smart HTTP (`git http-backend`) behind Basic auth that
 * accepts only an installation token the strict fake GitHub API minted for this repository with
 * `contents: read`. The App's JWT is checked there against the App's public key (RS256).
 */
const APP_ID = 4242;
const INSTALLATION = 77;
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = {
  private: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  public: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

/** The argv of every process on the machine, as `ps` shows it. */
function processArgs(): string[] {
  const fromProc: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      fromProc.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // gone meanwhile
    }
  }
  return [...fromProc, ...execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n')];
}

/** The forms a token could leak in: itself, and inside a Basic header (base64 of user:token). */
const leakForms = (token: string) => [token, Buffer.from(`x-access-token:${token}`).toString('base64'), Buffer.from(`oauth2:${token}`).toString('base64')];

describe('fetching a private GitHub repository (strict fake GitHub API, real git http-backend, Redis, SQLite, BuildKit)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  /** The repository served as octo/hello.git under the server's root, so `github.gitUrl` is the server's base URL. */
  async function privateRepo(options: Omit<GitHttpOptions, 'root'>) {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const root = join(repo.root, 'srv');
    mkdirSync(join(root, 'octo'), { recursive: true });
    symlinkSync(repo.bare, join(root, 'octo', 'hello.git'));
    const git = new GitHttpServer(join(root, 'octo', 'hello.git'), { root, ...options });
    await git.start();
    cleanups.push(() => git.stop());
    return { repo, git };
  }

  async function fakeGithub(repositories = ['octo/hello']): Promise<FakeGithub> {
    const fake = await startFakeGithub({ app: { id: APP_ID, publicKeyPem: PEM.public, installationId: INSTALLATION, repositories } });
    cleanups.push(() => fake.close());
    return fake;
  }

  async function runtime(github: Record<string, unknown>, logSink?: (line: string) => void): Promise<TestRuntime> {
    const rt = await startTestRuntime({
      config: { github: { webhookSecret: WEBHOOK_SECRET, ...github }, apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } }] },
      ...(logSink ? { logSink } : {}),
    });
    cleanups.push(() => rt.stop());
    return rt;
  }

  it('fetches with an installation token scoped to the repository and contents: read, which no argv, file, log or API answer shows', async () => {
    const fake = await fakeGithub();
    // Only a live token the fake minted for octo/hello with contents: read opens the repository.
    const accepts = (user: string, password: string) => {
      const scope = fake.tokenScope(password);
      return (
        user === 'x-access-token' &&
        scope !== undefined &&
        Array.isArray(scope.repositories) &&
        scope.repositories.join() === 'hello' &&
        scope.permissions['contents'] === 'read' &&
        Object.keys(scope.permissions).length === 1
      );
    };
    const { repo, git } = await privateRepo({ auth: accepts });
    const logLines: string[] = [];
    const rt = await runtime({ app: { id: APP_ID, privateKey: PEM.private }, apiUrl: fake.url, gitUrl: git.base }, (line) => logLines.push(line));
    const sha = repo.commit(servingApp());

    // Hold the fetch while git runs, and look at what the machine shows of it.
    git.hold();
    const [build] = (await deliverGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha }))).builds;
    await waitFor(async () => (git.uploadPacks > 0 ? true : undefined), 'git to ask for the pack');
    // The token is what the server let in.
    const tokens = [
      ...new Set(git.requests.filter((r) => r.allowed).map((r) => Buffer.from(r.authorization!.slice('Basic '.length), 'base64').toString().split(':')[1]!)),
    ];
    expect(tokens).toHaveLength(1);
    const secret = tokens[0]!;
    const args = processArgs();
    // The scan saw the fetch itself: git's argv is there, with the URL and commit but no credential.
    expect(args.some((a) => a.includes('fetch') && a.includes('--end-of-options') && a.includes(sha))).toBe(true);
    for (const form of leakForms(secret)) expect(args.filter((a) => a.includes(form))).toEqual([]);
    const checkout = filesUnder(join(rt.config.builds.workspace, build!.id));
    expect(checkout.map((f) => f.path)).toContain(join(rt.config.builds.workspace, build!.id, '.git', 'config'));
    for (const f of checkout) for (const form of leakForms(secret)) expect(f.bytes.includes(form), `${f.path} holds the token`).toBe(false);
    git.release();

    const ended = await buildEnded(rt, build!.id, 180_000);
    expect(ended).toMatchObject({ state: FINAL_STATE, errorCode: null });
    // The access token request asked for this repository's contents, read-only, and nothing else.
    const minted = fake.calls.filter((c) => c.path === `/app/installations/${INSTALLATION}/access_tokens`);
    expect(minted.map((c) => c.body)).toContainEqual({ repositories: ['hello'], permissions: { contents: 'read' } });
    expect(fake.violations).toEqual([]);
    const lines = (await logsAfter(rt.store.db, build!.id)).map((l) => l.line);
    expect(lines).toContain(`fetching ${sha} from ${git.base}/octo/hello.git with GitHub App ${APP_ID} installation ${INSTALLATION}`);

    // The process log is written after the build row ends: wait for the build's last line before reading it.
    await waitFor(
      async () => (logLines.some((l) => l.includes(build!.id) && l.includes('build finished')) ? true : undefined),
      'the build to be logged as finished',
    );
    const api = await Promise.all(
      [`/api/v1/builds/${build!.id}`, `/api/v1/builds/${build!.id}/logs`].map(
        async (url) => (await rt.server!.inject({ method: 'GET', url, headers: API_AUTH })).body,
      ),
    );
    for (const form of leakForms(secret)) {
      expect(logLines.filter((l) => l.includes(form))).toEqual([]);
      expect(lines.filter((l) => l.includes(form))).toEqual([]);
      expect(api.filter((a) => a.includes(form))).toEqual([]);
      // The runtime's directory: database, workspaces, data directory.
      expect(
        filesUnder(rt.dir)
          .filter((f) => f.bytes.includes(form))
          .map((f) => f.path),
      ).toEqual([]);
    }
  }, 240_000);

  it('without github.app or a token, the fetch fails at once with SLW_SOURCE_ACCESS naming the repository, and is not retried', async () => {
    const { repo, git } = await privateRepo({ auth: () => false });
    const rt = await runtime({ gitUrl: git.base });
    const sha = repo.commit(servingApp());
    const [build] = (await deliverGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha }))).builds;
    const ended = await buildEnded(rt, build!.id);
    expect(ended).toMatchObject({ state: 'failed', errorCode: 'SLW_SOURCE_ACCESS', attempts: 1 });
    expect(ended.errorMessage).toContain(`${git.base}/octo/hello.git refused an anonymous fetch`);
    expect(ended.errorMessage).toMatch(/configure github\.app or github\.token/);
    const lines = (await logsAfter(rt.store.db, build!.id)).map((l) => l.line);
    expect(lines.filter((l) => l.startsWith('fetching '))).toHaveLength(1);
    expect(lines.some((l) => /will try again/.test(l))).toBe(false);
  });

  it('a github.token the forge refuses fails with SLW_SOURCE_ACCESS naming github.token and what to grant, never its value', async () => {
    const TOKEN = 'github_pat_11AAAAAAA0wrongwrongwrongwrong';
    const { repo, git } = await privateRepo({ auth: () => false, hideAs404: true });
    const logLines: string[] = [];
    const rt = await runtime({ token: TOKEN, gitUrl: git.base }, (line) => logLines.push(line));
    const sha = repo.commit(servingApp());
    const [build] = (await deliverGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha }))).builds;
    const ended = await buildEnded(rt, build!.id);
    expect(ended).toMatchObject({ state: 'failed', errorCode: 'SLW_SOURCE_ACCESS', attempts: 1 });
    expect(ended.errorMessage).toContain(`${git.base}/octo/hello.git refused github.token`);
    expect(ended.errorMessage).toContain('"Contents: Read-only"');
    // The token was sent (as a Basic header) and is nowhere to be read back.
    expect(git.requests.some((r) => r.authorization === `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`)).toBe(true);
    const api = (await rt.server!.inject({ method: 'GET', url: `/api/v1/builds/${build!.id}`, headers: API_AUTH })).body;
    for (const form of leakForms(TOKEN)) {
      expect(api.includes(form)).toBe(false);
      expect(logLines.filter((l) => l.includes(form))).toEqual([]);
      expect(
        filesUnder(rt.dir)
          .filter((f) => f.bytes.includes(form))
          .map((f) => f.path),
      ).toEqual([]);
    }
  });

  it('an App not installed on the repository fails with SLW_SOURCE_ACCESS before git runs, and is not retried (strict fake GitHub API)', async () => {
    const fake = await fakeGithub(['octo/other']);
    const { repo, git } = await privateRepo({ auth: () => false });
    const rt = await runtime({ app: { id: APP_ID, privateKey: PEM.private }, apiUrl: fake.url, gitUrl: git.base });
    const sha = repo.commit(servingApp());
    const [build] = (await deliverGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: sha }))).builds;
    const ended = await buildEnded(rt, build!.id);
    expect(ended).toMatchObject({ state: 'failed', errorCode: 'SLW_SOURCE_ACCESS', attempts: 1 });
    expect(ended.errorMessage).toMatch(
      new RegExp(`GitHub refused GitHub App ${APP_ID} a token to read octo/hello \\(HTTP 404\\); install the GitHub App ${APP_ID} on octo/hello`),
    );
    expect(git.requests).toEqual([]);
    expect(fake.calls.some((c) => c.path === '/repos/octo/hello/installation')).toBe(true);
    expect(fake.calls.some((c) => c.path.endsWith('/access_tokens'))).toBe(false);
  });
});
