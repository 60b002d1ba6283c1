import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { getRevisionOfBuild, logsAfter } from '../../src/store/index.js';
import { startFakeGithub } from '../feedback/fakes/github-api.js';
import { filesUnder } from '../helpers/files.js';
import { GitHttpServer } from '../helpers/git-http.js';
import { TestRepo } from '../helpers/git.js';
import { getWithHost } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { copyBase, startRegistry } from '../helpers/registry.js';
import { API_AUTH, buildEnded, deliverGithub, startTestRuntime, waitFor, WEBHOOK_SECRET } from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';

const APP_ID = 4343;
const INSTALLATION = 88;
const REGISTRY_USER = 'carol';
const REGISTRY_PASSWORD = 'carol-registry-pw-3f9a1c';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = {
  private: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  public: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

/** A secret, and the Basic-header forms (base64 of user:secret) it could leak in. */
const leakForms = (secret: string, user: string) => [secret, Buffer.from(`${user}:${secret}`).toString('base64')];

/**
 * The whole private path in one flow: a push to a private GitHub repository (strict fake GitHub API minting an
 * installation token; real git http-backend behind Basic auth that accepts only that token), whose Dockerfile is
 * FROM a private base image in an htpasswd docker-registry, built by BuildKit and pushed to that same registry,
 * pulled by the Engine and served by the local target's router.
 */
describe('private source and private registry in one push (strict fake GitHub API, real git, docker-registry with htpasswd, BuildKit, Engine, router)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('ends ready and served, and neither the installation token nor the registry password shows in logs, API answers or files', async () => {
    const registry = await startRegistry({ kind: 'htpasswd', username: REGISTRY_USER, password: REGISTRY_PASSWORD });
    cleanups.push(() => registry.stop());
    const base = await copyBase(
      new RegistryClient({ host: registry.host, credentials: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } }),
      'team/base',
    );
    await expect(new RegistryClient({ host: registry.host }).getManifest('team/base', 'latest')).rejects.toMatchObject({ code: 'SLW_REGISTRY_AUTH' });

    const fake = await startFakeGithub({ app: { id: APP_ID, publicKeyPem: PEM.public, installationId: INSTALLATION, repositories: ['octo/web'] } });
    cleanups.push(() => fake.close());
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const root = join(repo.root, 'srv');
    mkdirSync(join(root, 'octo'), { recursive: true });
    symlinkSync(repo.bare, join(root, 'octo', 'web.git'));
    const accepts = (user: string, password: string) => {
      const scope = fake.tokenScope(password);
      return user === 'x-access-token' && scope !== undefined && scope.permissions['contents'] === 'read';
    };
    const git = new GitHttpServer(join(root, 'octo', 'web.git'), { root, auth: accepts });
    await git.start();
    cleanups.push(() => git.stop());

    const noDocker = mkdtempSync(join(tmpdir(), 'slipway-nodocker-'));
    cleanups.push(() => rmSync(noDocker, { recursive: true, force: true }));
    const port = await freePort();
    const logLines: string[] = [];
    const rt = await startTestRuntime({
      router: true,
      env: { REG_PASSWORD: REGISTRY_PASSWORD, DOCKER_CONFIG: noDocker },
      logSink: (line) => logLines.push(line),
      logLevel: 'trace',
      config: {
        github: { webhookSecret: WEBHOOK_SECRET, app: { id: APP_ID, privateKey: PEM.private }, apiUrl: fake.url, gitUrl: git.base },
        registry: { url: `http://${registry.host}`, namespace: 'slipway' },
        registries: { [registry.host]: { username: REGISTRY_USER, passwordEnv: 'REG_PASSWORD' } },
        targets: { local: { kind: 'local', listen: `127.0.0.1:${port}`, domain: 'slipway.test' } },
        apps: [{ name: 'web', repo: 'github:octo/web', branches: { main: 'local' } }],
      },
    });
    cleanups.push(() => rt.stop());

    const sha = repo.commit({
      Dockerfile: `FROM ${base}\nCOPY www /www\nUSER 1000\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
      'www/index.html': 'private everything\n',
    });
    const [pushed] = (await deliverGithub(rt, 'push', githubPush({ repo: 'octo/web', commit: sha }))).builds;
    const build = await buildEnded(rt, pushed!.id, 180_000);
    const lines = (await logsAfter(rt.store.db, build.id)).map((l) => l.line);
    expect(build.state, `${build.errorCode}: ${build.errorMessage}\n${lines.join('\n')}`).toBe('ready');
    expect(build.digest).toBeTruthy();
    // The revision runs the image pushed to the private registry, by digest.
    const revision = await getRevisionOfBuild(rt.store.db, build.id);
    expect(revision).toMatchObject({ state: 'ready', digest: build.digest });
    expect(revision!.image!.startsWith(`${registry.host}/slipway/`)).toBe(true);
    expect(revision!.image!.endsWith(`@${build.digest}`)).toBe(true);
    expect(fake.violations).toEqual([]);

    const served = await waitFor(
      async () => {
        const r = await getWithHost(`http://127.0.0.1:${port}`, 'web.slipway.test');
        return r.status === 200 && r.body === 'private everything\n' ? r : undefined;
      },
      'web.slipway.test to serve the build from the private repository and registry',
      15_000,
    );
    expect(served.revision).toBe(revision!.name);

    // The token is what the git server let in: the one the fetch really used.
    const tokens = [
      ...new Set(git.requests.filter((r) => r.allowed).map((r) => Buffer.from(r.authorization!.slice('Basic '.length), 'base64').toString().split(':')[1]!)),
    ];
    expect(tokens).toHaveLength(1);
    const secrets = [...leakForms(tokens[0]!, 'x-access-token'), ...leakForms(REGISTRY_PASSWORD, REGISTRY_USER)];

    await waitFor(
      async () => (logLines.some((l) => l.includes(build.id) && l.includes('build finished')) ? true : undefined),
      'the build to be logged as finished',
    );
    // Below info too (trace was asked for), so the scan sees the most the process ever logs.
    expect(logLines.some((l) => (JSON.parse(l) as { level: number }).level < 30)).toBe(true);
    const api = await Promise.all(
      [`/api/v1/builds/${build.id}`, `/api/v1/builds/${build.id}/logs`, '/api/v1/builds'].map(
        async (url) => (await rt.server!.inject({ method: 'GET', url, headers: API_AUTH })).body,
      ),
    );
    expect(api[0]).toContain(build.id);
    const files = filesUnder(rt.dir);
    expect(files.some((f) => /\.(db|sqlite)/.test(f.path))).toBe(true);
    for (const form of secrets) {
      expect(logLines.filter((l) => l.includes(form))).toEqual([]);
      expect(lines.filter((l) => l.includes(form))).toEqual([]);
      expect(api.filter((a) => a.includes(form))).toEqual([]);
      expect(files.filter((f) => f.bytes.includes(form)).map((f) => f.path)).toEqual([]);
    }
  }, 300_000);
});
