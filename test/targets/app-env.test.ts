import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { getBuild, logsAfter } from '../../src/store/index.js';
import { TestIssuer } from '../deploy/helpers.js';
import { TestRepo } from '../helpers/git.js';
import { getWithHost } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { API_AUTH, API_TOKEN, BASE_IMAGE, buildEnded, deliverGithub, startTestRuntime, waitFor } from '../helpers/runtime.js';
import type { TestRuntime } from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';

/**
 * `slipway env` end to end: real git, BuildKit, registry, injection, signing, Docker Engine and router. A
 * change to an app's environment runs the image serving now again as a new revision (through the image
 * and promote gates) whose container sees it; the app prints what it got. A secret is then looked for
 * everywhere it must not be: every line Slipway logged, every API answer, container labels, the
 * database file's bytes.
 */

const SECRET = 'sk-live-8f3e2c1a9b7d-do-not-leak';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Serves what it got from its environment (a secret only as its SHA-256) and prints it on stdout. */
const APP_SCRIPT = `mkdir -p /tmp/w
key=unset
[ -n "\${API_KEY+x}" ] && key=$(printf %s "$API_KEY" | sha256sum | cut -c1-64)
printf 'GREETING=%s FROM_FILE=%s API_KEY_SHA=%s\\n' "\${GREETING-unset}" "\${FROM_FILE-unset}" "$key" > /tmp/w/index.html
echo "app started with GREETING=\${GREETING-unset}"
exec httpd -f -p 127.0.0.1:$PORT -h /tmp/w
`;
const appFiles = () => ({ Dockerfile: `FROM ${BASE_IMAGE}\nCOPY run.sh /run.sh\nUSER 1000\nCMD ["sh", "/run.sh"]\n`, 'run.sh': APP_SCRIPT });

describe('app environment and secrets (real pipeline, Docker Engine and router)', () => {
  const issuer = new TestIssuer();
  let rt: TestRuntime;
  let repo: TestRepo;
  let router: string;
  let logged = '';
  const answers: string[] = [];

  beforeAll(async () => {
    await issuer.start();
    repo = new TestRepo();
    const port = await freePort();
    router = `http://127.0.0.1:${port}`;
    // Every line Slipway logs, at every level, to look for the secret in.
    const logDestination = new Writable({ write: (c, _e, cb) => ((logged += c.toString()), cb()) });
    rt = await startTestRuntime({
      router: true,
      logDestination,
      config: {
        log: { level: 'trace' },
        api: {
          tokens: [{ name: 'tests', sha256: sha(API_TOKEN) }],
          oidc: { issuer: issuer.url, audience: 'slipway' },
        },
        targets: { local: { kind: 'local', listen: `127.0.0.1:${port}`, domain: 'slipway.test', idleTimeout: '5m' } },
        apps: [
          {
            name: 'cfg',
            repo: 'github:octo/hello',
            cloneUrl: repo.bare,
            branches: { main: 'local' },
            env: { FROM_FILE: 'file' },
            readOnlyRootFilesystem: true,
            port: 9090,
            resources: { cpu: 0.5, memory: '64MiB' },
          },
          { name: 'other', repo: 'github:octo/other', branches: { main: 'local' } },
        ],
      },
    });
  }, 60_000);
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
    await issuer.stop();
  });

  const serves = (host: string, body: string) =>
    waitFor(
      async () => {
        const r = await getWithHost(router, host);
        return r.status === 200 && r.body === body ? r : undefined;
      },
      `${host} to serve ${JSON.stringify(body)}`,
      30_000,
    );
  const api = async (method: 'GET' | 'PATCH' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = API_AUTH) => {
    const res = await rt.server!.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    answers.push(res.body);
    return res;
  };
  async function cli(args: string[], stdin?: string) {
    let stdout = '';
    let stderr = '';
    const code = await main([...args, '--server', rt.url], {
      env: { SLIPWAY_TOKEN: API_TOKEN },
      stdout: new Writable({ write: (c, _e, cb) => ((stdout += c.toString()), cb()) }),
      stderr: new Writable({ write: (c, _e, cb) => ((stderr += c.toString()), cb()) }),
      cwd: rt.dir,
      stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
    });
    answers.push(stdout, stderr);
    return { code, stdout, stderr };
  }
  /** The config build a change answered with, once it ended ready. */
  async function changeMade(stdout: string) {
    const id = /slipway logs (b-[0-9a-z]+) -f/.exec(stdout)?.[1];
    expect(id, stdout).toBeDefined();
    const build = await buildEnded(rt, id!);
    expect(build, JSON.stringify((await logsAfter(rt.store.db, id!)).map((l) => l.line))).toMatchObject({ state: 'ready', scope: 'config', trigger: 'image' });
    return build;
  }

  it('a push serves the app with apps[].env; slipway env set makes a new revision of the same image whose container sees the value', async () => {
    const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/hello', commit: repo.commit(appFiles()) }));
    const first = await buildEnded(rt, pushed.builds[0]!.id);
    expect(first.state).toBe('ready');
    await serves('cfg.slipway.test', 'GREETING=unset FROM_FILE=file API_KEY_SHA=unset\n');

    const set = await cli(['env', 'cfg', 'set', 'GREETING=hello world']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^GREETING\s+hello world\s+stored/m);
    expect(set.stdout).toMatch(/^FROM_FILE\s+file\s+config/m);
    const change = await changeMade(set.stdout);
    // The same signed digest, no rebuild: only the gates and the promotion ran.
    expect(change.cloneUrl.endsWith(`@${first.digest}`)).toBe(true);
    expect(change.commit).toBe(first.digest!.slice('sha256:'.length));
    expect((await logsAfter(rt.store.db, change.id)).map((l) => l.line)).toContain(
      'build skipped: the build promotes the existing image ' + change.cloneUrl + ': nothing to build',
    );
    expect((await serves('cfg.slipway.test', 'GREETING=hello world FROM_FILE=file API_KEY_SHA=unset\n')).revision).toBe('cfg-2');
  });

  it("the app's port and limits (apps[].port, apps[].resources) reach its containers", async () => {
    const docker = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
    const ids = execFileSync(docker, ['ps', '-q', '--filter', `label=dev.slipway.revision=cfg-2`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(ids).toHaveLength(1);
    const inspected = JSON.parse(execFileSync(docker, ['inspect', ids[0]!], { encoding: 'utf8' }))[0] as {
      Config: { Env: string[] };
      HostConfig: { Memory: number; NanoCpus: number };
    };
    expect(inspected.HostConfig).toMatchObject({ Memory: 64 * 2 ** 20, NanoCpus: 500_000_000 });
    expect(inspected.Config.Env).toContain('PORT=9090');
  });

  it('a secret set from stdin reaches the container only; unset removes a variable; the old revision keeps its own', async () => {
    const secret = await cli(['env', 'cfg', 'set', '--secret', 'API_KEY'], `${SECRET}\n`);
    expect(secret.code, secret.stderr).toBe(0);
    expect(secret.stdout).toMatch(/^API_KEY\s+••••\s+stored/m);
    await changeMade(secret.stdout);
    expect((await serves('cfg.slipway.test', `GREETING=hello world FROM_FILE=file API_KEY_SHA=${sha(SECRET)}\n`)).revision).toBe('cfg-3');

    const unset = await cli(['env', 'cfg', 'unset', 'GREETING']);
    expect(unset.code, unset.stderr).toBe(0);
    await changeMade(unset.stdout);
    expect((await serves('cfg.slipway.test', `GREETING=unset FROM_FILE=file API_KEY_SHA=${sha(SECRET)}\n`)).revision).toBe('cfg-4');

    // cfg-2 still runs with what it was made with: give it a tag and ask it.
    const status = (await api('GET', '/api/v1/apps/cfg/revisions')).json() as { generation: number };
    const put = await api('PUT', '/api/v1/apps/cfg/traffic', {
      traffic: [
        { revision: 'cfg-4', percent: 100 },
        { revision: 'cfg-2', percent: 0, tag: 'old' },
      ],
      generation: status.generation,
    });
    expect(put.statusCode).toBe(200);
    await serves('old-cfg.slipway.test', 'GREETING=hello world FROM_FILE=file API_KEY_SHA=unset\n');

    const listed = await cli(['env', 'cfg', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      app: 'cfg',
      target: 'local',
      env: [
        { name: 'API_KEY', secret: true, value: null, source: 'stored', updatedBy: 'token:tests' },
        { name: 'FROM_FILE', secret: false, value: 'file', source: 'config' },
      ],
    });
  });

  it('the secret is in no log line, API answer, container label or database byte', async () => {
    const revisions = await api('GET', '/api/v1/apps/cfg/revisions');
    expect(revisions.json().revisions.find((r: { name: string }) => r.name === 'cfg-4').spec.secrets).toEqual({ API_KEY: '••••' });
    const builds = (await api('GET', '/api/v1/builds?app=cfg')).json() as { builds: { id: string }[] } | { id: string }[];
    for (const b of Array.isArray(builds) ? builds : builds.builds) await api('GET', `/api/v1/builds/${b.id}/logs`);
    await api('GET', '/api/v1/apps/cfg/env');

    const docker = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
    const ids = execFileSync(docker, ['ps', '-q', '--filter', `label=dev.slipway.installation=${rt.prefix}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    const labels = execFileSync(docker, ['inspect', '--format', '{{json .Config.Labels}}', ...ids], { encoding: 'utf8' });
    // The container that serves now does have it, in its environment (what the app reads).
    const envs = execFileSync(docker, ['inspect', '--format', '{{json .Config.Env}}', ...ids], { encoding: 'utf8' });
    expect(envs).toContain(`API_KEY=${SECRET}`);

    const database = join(rt.dir, 'slipway.db');
    const bytes = [database, `${database}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1'));
    const buildLines = (await rt.store.db.selectFrom('build_logs').select('line').execute()).map((l) => l.line).join('\n');

    expect(logged.length).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(5);
    for (const [where, text] of [
      ['the logs', logged],
      ['an API or CLI answer', answers.join('\n')],
      ['container labels', labels],
      ['the database file', bytes.join('')],
      ['build logs', buildLines],
    ] as const) {
      expect(text.includes(SECRET), `the secret is in ${where}`).toBe(false);
    }
  });

  it('refuses reserved, invalid and oversized names and values, secrets on the command line, and callers without a token for the app', async () => {
    const patch = (payload: unknown, headers?: Record<string, string>) => api('PATCH', '/api/v1/apps/cfg/env', payload, headers);
    for (const [payload, message] of [
      [{ set: { PORT: '9' } }, /PORT is set by the serving target/],
      [{ set: { K_REVISION: 'x' } }, /K_REVISION: K_\* names are set by the serving target/],
      [{ set: { SLIPWAY_PROXY_SOCKET: '/x' } }, /SLIPWAY_\* names are set by Slipway itself/],
      [{ set: { '1A': 'x', 'A-B': 'x', 'a b': 'x', '': 'x' } }, /"1A" is not a variable name.*"A-B" is not a variable name.*"a b" is not a variable name/],
      [{ set: { BIG: 'x'.repeat(32 * 1024 + 1) } }, /BIG: the value is longer than 32768 bytes/],
      [{ set: { NUL: 'a\u0000b' } }, /NUL: the value contains a NUL byte/],
      [{ set: { A: 'x' }, unset: ['A'] }, /A is both set and unset/],
      [{ unset: ['FROM_FILE'] }, /FROM_FILE of app cfg come from the config file/],
      [{ unset: ['NEVER_SET'] }, /has no variable NEVER_SET/],
      [{}, /nothing to change/],
      [{ set: { A: 1 } }, /set\.A: /],
      [{ set: { A: 'x' }, extra: true }, /Unrecognized key/],
    ] as const) {
      const res = await patch(payload);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ code: 'SLW_ENV_INVALID' });
      expect(res.json().detail ?? res.body).toMatch(message);
    }
    const huge = await patch({ set: { A: 'x'.repeat(2 * 1024 * 1024) } });
    expect(huge.statusCode).toBe(413);

    expect((await api('GET', '/api/v1/apps/cfg/env', undefined, {})).statusCode).toBe(401);
    expect((await patch({ set: { A: 'x' } }, {})).statusCode).toBe(401);
    expect((await patch({ set: { A: 'x' } }, { authorization: 'Bearer not-a-token' })).statusCode).toBe(401);
    const oidc = { authorization: `Bearer ${await issuer.token()}` };
    // A GitHub Actions token of octo/hello may change cfg (its app) but not other.
    expect((await api('PATCH', '/api/v1/apps/other/env', { set: { A: 'x' } }, oidc)).statusCode).toBe(403);
    expect((await api('GET', '/api/v1/apps/other/env', undefined, oidc)).statusCode).toBe(403);
    expect((await api('GET', '/api/v1/apps/cfg/env', undefined, oidc)).statusCode).toBe(200);
    expect((await api('PATCH', '/api/v1/apps/nope/env', { set: { A: 'x' } })).statusCode).toBe(404);

    const onArgv = await cli(['env', 'cfg', 'set', '--secret', `API_KEY=${SECRET}`]);
    expect(onArgv.code).toBe(2);
    expect(onArgv.stderr).toMatch(/a secret value is never taken from the command line/);
    expect(onArgv.stderr).not.toContain(SECRET);

    // None of the refused changes was stored or made a build.
    const env = (await api('GET', '/api/v1/apps/cfg/env')).json() as { env: { name: string }[] };
    expect(env.env.map((e) => e.name)).toEqual(['API_KEY', 'FROM_FILE']);
    const configBuilds = await rt.store.db.selectFrom('builds').select('id').where('scope', '=', 'config').execute();
    expect(configBuilds).toHaveLength(3);
    expect(await getBuild(rt.store.db, configBuilds[0]!.id)).toBeDefined();
  });
});
