import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SlipwayConfig } from '../../src/config/index.js';
import { SlipwayError } from '../../src/core/errors.js';
import type { ForgeId } from '../../src/forges/registry.js';
import { createGithubClient } from '../../src/forges/github/client.js';
import { githubSource } from '../../src/forges/github/source.js';
import { createForge } from '../../src/forges/registry.js';
import type { Forge } from '../../src/forges/types.js';
import { createLogger } from '../../src/log/index.js';
import type { StageContext } from '../../src/pipeline/context.js';
import { credentialEnv, sourceCredential } from '../../src/pipeline/source-credential.js';
import { fetchStage } from '../../src/pipeline/stages/fetch.js';
import type { Build } from '../../src/store/index.js';
import { startFakeGithub } from '../feedback/fakes/github-api.js';
import { GitHttpServer } from '../helpers/git-http.js';
import { TestRepo } from '../helpers/git.js';
import { testConfig, uniquePrefix, waitFor } from '../helpers/runtime.js';
import { sshKeyPair, TestSshd } from '../helpers/sshd.js';

/**
 * The fetch stage as a worker runs it, against real servers: OpenSSH's sshd serving git-shell for deploy
 * keys, git http-backend behind Basic auth for tokens. Each test reads what git was given and what it
 * left behind.
 */

const logger = createLogger({ level: 'silent' });
const workspaces: string[] = [];
afterAll(() => {
  for (const w of workspaces) rmSync(w, { recursive: true, force: true });
});

interface Fetch {
  result: Promise<{ commit: string; dir: string }>;
  lines: string[];
  workspace: string;
}

/** Runs the fetch stage for `octo/hello` at `commit` with `config` (its first app), from `cloneUrl`. */
function fetchWith(config: SlipwayConfig, cloneUrl: string, commit: string, forge: ForgeId = 'github', env: Record<string, string> = {}): Fetch {
  const forges = new Map<ForgeId, Forge>([
    ['github', createForge('github', { secret: undefined, api: { url: config.github.apiUrl, token: config.github.token }, gitUrl: config.github.gitUrl })],
    ['gitlab', createForge('gitlab', { secret: undefined, api: { url: config.gitlab.apiUrl, token: config.gitlab.token }, gitUrl: config.gitlab.gitUrl })],
  ]);
  const lines: string[] = [];
  const parent = mkdtempSync(join(tmpdir(), 'slipway-ws-'));
  workspaces.push(parent);
  const workspace = join(parent, 'build');
  const build = {
    id: 'b-test',
    app: 'hello',
    target: 'local',
    commit,
    ref: 'refs/heads/main',
    scope: 'branch:main',
    trigger: 'push',
    forge,
    deliveryId: null,
    repo: 'octo/hello',
    cloneUrl,
    fork: false,
    prNumber: null,
    sender: null,
    state: 'fetching',
    stage: 'fetch',
    digest: null,
    errorCode: null,
    errorMessage: null,
    dedupeKey: 'x',
    supersededBy: null,
    sourceBuild: null,
    attempts: 1,
    createdAt: '',
    updatedAt: '',
    startedAt: null,
    finishedAt: null,
  } satisfies Build;
  const ctx: StageContext = {
    build,
    app: config.apps[0]!,
    config,
    store: undefined as never,
    policies: { policies: [], files: [], costLimit: 0 },
    signing: undefined,
    targets: undefined,
    signal: new AbortController().signal,
    workspace,
    cwd: config.dataDir,
    env,
    forges,
    outputs: {},
    log: async (line) => void lines.push(line),
    logger,
  };
  return { result: fetchStage.run(ctx), lines, workspace };
}

const refusal = async (p: Promise<unknown>): Promise<SlipwayError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SlipwayError);
  return err as SlipwayError;
};

/** All of a directory's bytes (the checkout, `.git/config` included). */
const bytesUnder = (dir: string): Buffer =>
  Buffer.concat(
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name))),
  );

describe('SSH deploy keys (Debian openssh-server, git-shell, real git)', () => {
  let sshd: TestSshd;
  let repo: TestRepo;
  let keys: string;
  let commit: string;
  let gitUrl: string;
  const homeKnownHosts = join(homedir(), '.ssh', 'known_hosts');
  const homeBefore = existsSync(homeKnownHosts) ? readFileSync(homeKnownHosts, 'utf8') : undefined;

  beforeAll(async () => {
    keys = mkdtempSync(join(tmpdir(), 'slipway-keys-'));
    sshKeyPair(join(keys, 'deploy'));
    sshKeyPair(join(keys, 'stranger'));
    sshd = await new TestSshd([readFileSync(join(keys, 'deploy.pub'), 'utf8').trim()]).start();
    writeFileSync(join(keys, 'known_hosts'), `${sshd.knownHostsLine}\n`);
    // The same host name and port with another key: what a man in the middle shows.
    const impostor = sshKeyPair(join(keys, 'impostor_host'));
    writeFileSync(join(keys, 'known_hosts.wrong'), `[127.0.0.1]:${sshd.port} ${impostor.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
    writeFileSync(join(keys, 'known_hosts.other'), `[127.0.0.1]:1 ${impostor.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
    repo = new TestRepo();
    mkdirSync(join(repo.root, 'srv', 'octo'), { recursive: true });
    symlinkSync(repo.bare, join(repo.root, 'srv', 'octo', 'hello.git'));
    commit = repo.commit({ Dockerfile: 'FROM scratch\n' });
    gitUrl = `ssh://${sshd.user}@127.0.0.1:${sshd.port}${join(repo.root, 'srv')}`;
  });
  afterAll(async () => {
    await sshd?.stop();
    repo?.cleanup();
    rmSync(keys, { recursive: true, force: true });
  });

  const config = (app: Record<string, unknown>) =>
    testConfig(keys, uniquePrefix(), {
      dataDir: keys,
      github: { gitUrl },
      apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' }, ...app }],
    });
  const url = () => `${gitUrl}/octo/hello.git`;

  it('fetches the commit with the deploy key against the pinned host key, and leaves no key in the checkout', async () => {
    const f = fetchWith(config({ deployKey: join(keys, 'deploy'), knownHosts: join(keys, 'known_hosts') }), url(), commit);
    await expect(f.result).resolves.toMatchObject({ commit });
    // The URL's user name is redacted as any URL credential is.
    expect(f.lines).toContain(`fetching ${commit} from ${url().replace(`//${sshd.user}@`, '//***@')} with deploy key ${join(keys, 'deploy')}`);
    const key = readFileSync(join(keys, 'deploy'));
    expect(bytesUnder(f.workspace).includes(key.subarray(40, 100))).toBe(false);
    expect(readFileSync(join(keys, 'known_hosts'), 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
  });

  it.each([
    ['a different key for the same host (a man in the middle)', 'known_hosts.wrong'],
    ['no key for this host at all (nothing is trusted on first use)', 'known_hosts.other'],
  ])('refuses %s with SLW_SOURCE_HOST_KEY and writes no known_hosts entry', async (_what, file) => {
    const before = readFileSync(join(keys, file), 'utf8');
    const f = fetchWith(config({ deployKey: join(keys, 'deploy'), knownHosts: join(keys, file) }), url(), commit);
    const err = await refusal(f.result);
    expect(err.code).toBe('SLW_SOURCE_HOST_KEY');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`apps[hello].knownHosts (${join(keys, file)})`);
    expect(readFileSync(join(keys, file), 'utf8')).toBe(before);
    expect(existsSync(homeKnownHosts) ? readFileSync(homeKnownHosts, 'utf8') : undefined).toBe(homeBefore);
  });

  it('a key the server does not know fails with SLW_SOURCE_ACCESS naming the key file and what to grant', async () => {
    const f = fetchWith(config({ deployKey: join(keys, 'stranger'), knownHosts: join(keys, 'known_hosts') }), url(), commit);
    const err = await refusal(f.result);
    expect(err.code).toBe('SLW_SOURCE_ACCESS');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`refused deploy key ${join(keys, 'stranger')}`);
    expect(err.message).toContain('as a read-only deploy key');
    expect(err.message).not.toContain(readFileSync(join(keys, 'stranger'), 'utf8').split('\n')[1]);
  });

  it('uses the configured key only: an agent holding the authorized key is not asked', async () => {
    const agentDir = mkdtempSync(join(tmpdir(), 'slipway-agent-'));
    const sock = join(agentDir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
    const pid = /SSH_AGENT_PID=(\d+)/.exec(out)![1]!;
    const previous = process.env.SSH_AUTH_SOCK;
    try {
      execFileSync('ssh-add', ['-q', join(keys, 'deploy')], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      process.env.SSH_AUTH_SOCK = sock;
      const f = fetchWith(config({ deployKey: join(keys, 'stranger'), knownHosts: join(keys, 'known_hosts') }), url(), commit);
      expect((await refusal(f.result)).code).toBe('SLW_SOURCE_ACCESS');
    } finally {
      if (previous === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = previous;
      process.kill(Number(pid));
      rmSync(agentDir, { recursive: true, force: true });
    }
  });

  it('refuses a key file others may read, a path ssh would expand, and a missing file with SLW_SOURCE_CREDENTIAL before ssh runs', async () => {
    const loose = join(keys, 'loose');
    copyFileSync(join(keys, 'deploy'), loose);
    chmodSync(loose, 0o644);
    const percent = join(keys, 'key%h');
    copyFileSync(join(keys, 'deploy'), percent);
    const cases: [string, string, RegExp][] = [
      [loose, 'known_hosts', /readable or writable by others \(mode 644\); chmod 600 it/],
      [percent, 'known_hosts', /may hold only letters, digits/],
      [join(keys, 'absent'), 'known_hosts', /cannot be read \(ENOENT\)/],
      [join(keys, 'deploy.pub'), 'known_hosts', /readable or writable by others|not a private key/],
      [join(keys, 'deploy'), 'absent', /knownHosts .* cannot be read/],
    ];
    const connectionsBefore = (sshd.log.match(/Connection from/g) ?? []).length;
    for (const [deployKey, knownHosts, message] of cases) {
      const err = await refusal(fetchWith(config({ deployKey, knownHosts: join(keys, knownHosts) }), url(), commit).result);
      expect(err.code).toBe('SLW_SOURCE_CREDENTIAL');
      expect(err.message).toMatch(message);
    }
    expect((sshd.log.match(/Connection from/g) ?? []).length).toBe(connectionsBefore);
  });

  it('the config refuses a deploy key without knownHosts, over https, or beside a cloneToken', () => {
    const parse = (app: Record<string, unknown>, github: Record<string, unknown> = { gitUrl }) =>
      configSchema.safeParse({ github, apps: [{ name: 'hello', repo: 'github:octo/hello', ...app }] });
    const messages = (r: ReturnType<typeof parse>) => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    expect(messages(parse({ deployKey: '/k' }))).toEqual([expect.stringMatching(/^apps\.0\.knownHosts: a deployKey needs knownHosts/)]);
    expect(messages(parse({ deployKey: '/k', knownHosts: '/h' }, {}))).toEqual([
      expect.stringMatching(/^apps\.0\.deployKey: a deployKey is used over SSH only, but this app is fetched from https:\/\/github.com/),
    ]);
    expect(messages(parse({ deployKey: '/k', knownHosts: '/h', cloneToken: 'T' }))).toEqual([
      expect.stringMatching(/deployKey or a cloneToken, not both/),
      expect.stringMatching(/cloneToken is sent over HTTPS only/),
    ]);
    expect(messages(parse({ knownHosts: '/h' }))).toEqual([expect.stringMatching(/knownHosts is only used with a deployKey/)]);
    expect(messages(parse({ deployKey: '/k', knownHosts: '/h' }))).toEqual([]);
    expect(messages(parse({ deployKey: '/k', knownHosts: '/h', cloneUrl: 'ssh://git@mirror.example/hello.git' }, {}))).toEqual([]);
  });
});

describe('tokens over HTTP (git http-backend behind Basic auth, real git)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function server(auth?: (user: string, password: string) => boolean) {
    const repo = new TestRepo();
    cleanups.push(() => repo.cleanup());
    const root = join(repo.root, 'srv');
    mkdirSync(join(root, 'octo'), { recursive: true });
    symlinkSync(repo.bare, join(root, 'octo', 'hello.git'));
    const git = new GitHttpServer(join(root, 'octo', 'hello.git'), { root, ...(auth ? { auth } : {}) });
    await git.start();
    cleanups.push(() => git.stop());
    return { repo, git, commit: repo.commit({ Dockerfile: 'FROM scratch\n' }) };
  }
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'slipway-data-'));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };

  it('gitlab.token reaches git as an Authorization header in its environment: not in argv, not in the checkout', async () => {
    const TOKEN = 'glpat-FAKE0123456789abcdefghij';
    const { git, commit } = await server((user, password) => user === 'oauth2' && password === TOKEN);
    const config = testConfig(dataDir(), uniquePrefix(), {
      gitlab: { token: TOKEN, gitUrl: git.base },
      apps: [{ name: 'hello', repo: 'gitlab:octo/hello', branches: { main: 'local' } }],
    });
    git.hold();
    const f = fetchWith(config, `${git.base}/octo/hello.git`, commit, 'gitlab');
    await waitFor(async () => (git.uploadPacks > 0 ? true : undefined), 'git to ask for the pack');
    // The fetching git, found by its argv: the header is in its environment (readable by its own user only).
    const header = `Authorization: Basic ${Buffer.from(`oauth2:${TOKEN}`).toString('base64')}`;
    const procs = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map((pid) => {
        try {
          return { cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'), env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0') };
        } catch {
          return undefined;
        }
      })
      .filter((p) => p !== undefined);
    const fetching = procs.filter((p) => p.cmd[0] === 'git' && p.cmd.includes('fetch') && p.cmd.includes(commit));
    expect(fetching).toHaveLength(1);
    expect(fetching[0]!.env).toContain(`GIT_CONFIG_VALUE_0=${header}`);
    expect(fetching[0]!.env).toContain(`GIT_CONFIG_KEY_0=http.${git.base}/octo/hello.git.extraHeader`);
    const b64 = Buffer.from(`oauth2:${TOKEN}`).toString('base64');
    expect(procs.filter((p) => p.cmd.join(' ').includes(TOKEN) || p.cmd.join(' ').includes(b64))).toEqual([]);
    git.release();
    await expect(f.result).resolves.toMatchObject({ commit });
    expect(f.lines).toContain(`fetching ${commit} from ${git.base}/octo/hello.git with gitlab.token`);
    const checkout = bytesUnder(f.workspace);
    expect(checkout.includes(TOKEN) || checkout.includes(b64)).toBe(false);
    expect(f.lines.filter((l) => l.includes(TOKEN) || l.includes(b64))).toEqual([]);
  });

  it("apps[].cloneToken names the worker's variable; the forge's token never goes to a cloneUrl outside the forge's gitUrl", async () => {
    const CLONE = 'clone-token-0123456789abcdef';
    const { git, commit } = await server((user, password) => password === CLONE);
    const base = {
      github: { token: 'ghp_forge_token_never_for_mirrors_0000', gitUrl: 'https://github.com' },
      apps: [{ name: 'hello', repo: 'github:octo/hello', cloneUrl: `${git.base}/octo/hello.git`, branches: { main: 'local' } }],
    };
    // A mirror: the forge's token is not sent there, so the private mirror refuses the anonymous fetch.
    const mirror = testConfig(dataDir(), uniquePrefix(), base);
    const refused = await refusal(fetchWith(mirror, `${git.base}/octo/hello.git`, commit).result);
    expect(refused.code).toBe('SLW_SOURCE_ACCESS');
    expect(refused.message).toContain('refused an anonymous fetch');
    const forgeHeader = Buffer.from(`x-access-token:${base.github.token}`).toString('base64');
    expect(git.requests.length).toBeGreaterThan(0);
    expect(git.requests.filter((r) => r.authorization?.includes(forgeHeader))).toEqual([]);

    const withToken = testConfig(dataDir(), uniquePrefix(), { ...base, apps: [{ ...base.apps[0], cloneToken: 'HELLO_CLONE_TOKEN' }] });
    const f = fetchWith(withToken, `${git.base}/octo/hello.git`, commit, 'github', { HELLO_CLONE_TOKEN: CLONE });
    await expect(f.result).resolves.toMatchObject({ commit });
    expect(f.lines).toContain(`fetching ${commit} from ${git.base}/octo/hello.git with apps[hello].cloneToken (HELLO_CLONE_TOKEN)`);

    const unset = await refusal(fetchWith(withToken, `${git.base}/octo/hello.git`, commit).result);
    expect(unset.code).toBe('SLW_SOURCE_CREDENTIAL');
    expect(unset.message).toContain("the worker's environment has no HELLO_CLONE_TOKEN");
  });

  it('a token is never sent in clear text to a host other than loopback, and never on a redirect', async () => {
    const config = testConfig(dataDir(), uniquePrefix(), {
      github: { token: 'ghp_cleartext_never_0000000000', gitUrl: 'http://git.example.internal' },
      apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } }],
    });
    const forges = new Map<ForgeId, Forge>([
      ['github', createForge('github', { secret: undefined, api: { url: config.github.apiUrl, token: config.github.token } })],
    ]);
    const source = { url: 'http://git.example.internal/octo/hello.git', protocol: 'http' as const, forge: { id: 'github' as const, repo: 'octo/hello' } };
    const err = await refusal(sourceCredential({ app: config.apps[0]!, config, forges, cwd: '/' }, source));
    expect(err.code).toBe('SLW_SOURCE_CREDENTIAL');
    expect(err.message).toBe('github.token would be sent in clear text to git.example.internal; fetch over https://');
    const env = credentialEnv(
      { kind: 'token', username: 'x-access-token', token: 't0ken', credential: 'github.token', grant: '' },
      'https://github.com/octo/hello.git',
    );
    expect(env).toMatchObject({ GIT_CONFIG_KEY_1: 'http.followRedirects', GIT_CONFIG_VALUE_1: 'false' });
  });
});

describe('GitHub App fetch tokens (strict fake GitHub API)', () => {
  it('mints one repository-scoped contents: read token and reuses it, apart from the feedback token', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const fake = await startFakeGithub({
      app: { id: 4242, publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), installationId: 77, repositories: ['octo/hello'] },
    });
    try {
      const client = createGithubClient(
        { url: fake.url, app: { id: 4242, privateKey: pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() } },
        undefined,
      )!;
      const source = githubSource(client);
      const [a, b] = await Promise.all([source.token('octo/hello'), source.token('octo/hello')]);
      const c = await source.token('octo/hello');
      expect(a).toMatchObject({ username: 'x-access-token', credential: 'GitHub App 4242 installation 77' });
      expect(b.token).toBe(a.token);
      expect(c.token).toBe(a.token);
      expect(fake.tokenScope(a.token)).toEqual({ repositories: ['hello'], permissions: { contents: 'read' } });
      // Feedback's token is another one, for what the installation was granted as a whole.
      const feedback = (await client.headers('octo/hello')).authorization.replace(/^token /, '');
      expect(feedback).not.toBe(a.token);
      expect(fake.tokenScope(feedback)?.repositories).toBe('all');
      expect(fake.tokensMinted).toBe(2);
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});
