import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild, listStages } from '../../src/store/index.js';
import { REGISTRY } from '../buildkit/registry-image.js';
import { TestRepo } from '../helpers/git.js';
import { spawnSlipway } from '../helpers/processes.js';
import { FINAL_STATE, servingApp, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { STATIC_TOKEN, staticTokenConfig } from './helpers.js';

/**
 * Builds without a forge, end to end: a directory uploaded with `slipway deploy`, and a `git push` to Slipway itself,
 * each become a build that runs every stage (real Slipway, Redis, SQLite, git, BuildKit, registry).
 */
/** git run asynchronously: the server under test lives in this process, so spawnSync would deadlock it. */
function git(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('slipway deploy and git push (real runtime and BuildKit)', () => {
  const app = `dp-${randomBytes(4).toString('hex')}`;
  let rt: TestRuntime;
  let home: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'slipway-home-'));
    rt = await startTestRuntime({
      config: {
        registry: { url: REGISTRY, namespace: 'slipway' },
        api: { tokens: staticTokenConfig },
        apps: [{ name: app, repo: `github:octo/${app}`, branches: { main: 'local' } }],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const ended = (id: string) =>
    waitFor(
      async () => {
        const b = await getBuild(rt.store.db, id);
        return b && [FINAL_STATE, 'failed', 'canceled', 'rejected'].includes(b.state) ? b : undefined;
      },
      `build ${id} to end`,
      120_000,
    );

  it('`slipway login` stores the token (0600) and `slipway deploy` uploads a directory that builds to the end', async () => {
    const env = { XDG_CONFIG_HOME: join(home, 'config'), HOME: home, SLIPWAY_TOKEN: '' };
    const login = spawnSlipway(['--server', rt.url, 'login', '--token', STATIC_TOKEN], { cwd: home, env });
    expect(await login.exited()).toBe(0);
    const stat = execFileSync('stat', ['-c', '%a', join(home, 'config', 'slipway', 'credentials.json')], { encoding: 'utf8' }).trim();
    expect(stat).toBe('600');

    const dir = join(home, 'ctx');
    mkdirSync(dir);
    for (const [name, content] of Object.entries({ ...servingApp(`deployed ${app}\n`), '.dockerignore': 'secret.txt\n', 'secret.txt': 'never uploaded\n' })) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    // No --server: the one `slipway login` stored, with its token.
    const deploy = spawnSlipway(['deploy', dir, '--app', app], { cwd: home, env });
    const code = await deploy.exited();
    expect(deploy.output()).toContain(`: ${FINAL_STATE}`);
    expect(code).toBe(0);
    const id = /^build (\S+): /m.exec(deploy.output())?.[1];
    expect(id, deploy.output()).toBeDefined();
    const build = await getBuild(rt.store.db, id!);
    expect(build).toMatchObject({ state: FINAL_STATE, trigger: 'upload', sender: 'token:ci' });
    // The revision it became, and its URL, are what the deploy prints last.
    expect(deploy.output()).toMatch(new RegExp(`revision ${app}-1: http://${app}\\.localhost`));
  }, 180_000);

  it('`slipway deploy <image@digest>` promotes an image Slipway protected and signed, through the gates and nothing else', async () => {
    const first = await rt.store.db.selectFrom('builds').selectAll().where('app', '=', app).where('trigger', '=', 'upload').executeTakeFirstOrThrow();
    const inject = (await listStages(rt.store.db, first.id)).find((s) => s.stage === 'inject');
    const { image, source } = JSON.parse(inject!.output!) as { image: string; source: string };
    const env = { SLIPWAY_TOKEN: STATIC_TOKEN };

    const deploy = spawnSlipway(['--server', rt.url, 'deploy', image, '--app', app, '--tag', 'rc'], { cwd: home, env });
    const code = await deploy.exited();
    expect(deploy.output()).toMatch(new RegExp(`revision ${app}-2: http://rc-${app}\\.localhost`));
    expect(code).toBe(0);
    const id = /^build (\S+): /m.exec(deploy.output())![1]!;
    expect(await getBuild(rt.store.db, id)).toMatchObject({ state: FINAL_STATE, trigger: 'image', cloneUrl: image, scope: 'deploy-tag:rc' });
    // The gates ran; nothing was fetched, built, injected or signed again.
    expect((await listStages(rt.store.db, id)).map((s) => s.stage)).toEqual(['policy-source', 'policy-image', 'policy-promote', 'promote']);
    expect(deploy.output()).toContain(`inject skipped: the build promotes the existing image ${image}`);

    // The image as built, before injection, carries no enforcer and no signature: the promote gate refuses
    // it even with no policy files at all (this runtime has none: the gate's floor is not a policy).
    const unprotected = spawnSlipway(['--server', rt.url, 'deploy', source, '--app', app, '--tag', 'raw'], { cwd: home, env });
    const unprotectedCode = await unprotected.exited();
    expect(unprotectedCode).toBe(1);
    expect(unprotected.output()).toMatch(/: rejected \(SLW_POLICY_REJECTED: rejected at the promote gate/);
    expect(unprotected.output()).toContain('promote gate: 0 rules checked');
    expect(unprotected.output()).toContain('no signature by a trusted key verified');
    expect((await rt.targets.get('local')!.status(app)).traffic.some((t) => t.tag === 'raw')).toBe(false);

    // Signed by the trusted key but never injected: still refused, for the missing enforcer.
    const password = readFileSync(join(rt.dir, '.slipway', 'cosign.password'), 'utf8').trim();
    const sign = spawnSlipway(['sign', source, '--key', join(rt.dir, '.slipway', 'cosign.key')], { cwd: rt.dir, env: { SLIPWAY_KEY_PASSWORD: password } });
    expect(await sign.exited(), sign.output()).toBe(0);
    const signedOnly = spawnSlipway(['--server', rt.url, 'deploy', source, '--app', app, '--tag', 'signed'], { cwd: home, env });
    expect(await signedOnly.exited()).toBe(1);
    expect(signedOnly.output()).toMatch(/rejected at the promote gate: sha256:[0-9a-f]{64} does not carry Slipway's micro-enforcer/);

    // By tag is refused before anything is queued.
    const byTag = await fetch(`${rt.url}/api/v1/apps/${app}/promotions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${STATIC_TOKEN}` },
      body: JSON.stringify({ image: `${REGISTRY}/slipway/${app}:latest` }),
    });
    expect(byTag.status).toBe(400);
    expect(byTag.headers.get('content-type')).toContain('application/problem+json');
    expect(((await byTag.json()) as { detail: string }).detail).toContain('names no digest: promote by digest');
  }, 180_000);

  it('`slipway deploy` without a token is refused', async () => {
    const deploy = spawnSlipway(['--server', rt.url, 'deploy', home, '--app', app], {
      cwd: home,
      env: { XDG_CONFIG_HOME: join(home, 'none'), SLIPWAY_TOKEN: '' },
    });
    expect(await deploy.exited()).toBe(1);
    expect(deploy.output()).toContain('SLW_AUTH_REQUIRED');
  });

  it('`git push` to /git/<app>.git builds the pushed commit and shows the build id; without a token it is refused', async () => {
    const repo = new TestRepo();
    try {
      const sha = repo.commit(servingApp(`pushed ${app}\n`));
      const remote = `${rt.url}/git/${app}.git`;
      const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '' };
      const refused = await git(['push', remote, 'main'], repo.work, env);
      expect(refused.status).not.toBe(0);
      // The 401 carried a Basic challenge: git asks for credentials (and has none here).
      expect(refused.stderr).toMatch(/could not read Username|Authentication failed/);

      const withToken = new URL(remote);
      withToken.username = 'x';
      withToken.password = STATIC_TOKEN;
      const pushed = await git(['push', withToken.href, 'main'], repo.work, env);
      expect(pushed.status, pushed.stderr).toBe(0);
      const id = /remote: slipway: build (\S+) queued for main → local/.exec(pushed.stderr)?.[1];
      expect(id, pushed.stderr).toBeDefined();
      expect(pushed.stderr).not.toContain(STATIC_TOKEN);
      const build = await ended(id!);
      expect(build).toMatchObject({ state: FINAL_STATE, trigger: 'git', commit: sha, scope: 'branch:main' });

      // A bearer header works as well; pushing the same commit again is the same build.
      const again = await git(['-c', `http.extraHeader=Authorization: Bearer ${STATIC_TOKEN}`, 'push', '--force', remote, 'main:other'], repo.work, env);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toContain('remote: slipway: other: app');
    } finally {
      repo.cleanup();
    }
  }, 180_000);
});
