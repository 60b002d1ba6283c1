import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { getBuild } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';

// Run where the server's data directory is, as a user on the same machine would: the CLI takes the local token from there.
const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env, cwd: rtDir });
let rtDir = process.cwd();

describe('slipway CLI against a running server (real server, Redis, SQLite, git)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;
  let okId: string;
  let failedId: string;

  beforeAll(async () => {
    repo = new TestRepo();
    rt = await startTestRuntime({
      config: {
        apps: [
          { name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' } },
          { name: 'broken', repo: 'github:octo/broken', cloneUrl: repo.bare, branches: { main: 'local' } },
        ],
      },
    });
    rtDir = rt.dir;
    const push = async (name: string, commit: string) => {
      const req = signedGithub('push', githubPush({ repo: name, commit }), WEBHOOK_SECRET);
      const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
      const id = res.json().builds[0].id as string;
      await waitFor(async () => {
        const b = await getBuild(rt.store.db, id);
        return b && [FINAL_STATE, 'failed'].includes(b.state) ? b : undefined;
      }, 'build to finish');
      return id;
    };
    okId = await push('octo/hello', repo.commit({ a: '1', ...servingApp() }));
    failedId = await push('octo/broken', '9'.repeat(40));
  });
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
  });

  it('`builds` prints a table, newest first, with the error of a failed build', async () => {
    const r = await run(['builds', '--server', rt.url]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+APP\s+TARGET\s+STATE\s+COMMIT\s+REF\s+AGE\s+ERROR$/);
    expect(lines[1]).toMatch(new RegExp(`^${failedId}\\s+broken\\s+local\\s+failed\\s+999999999999\\s+main\\s+\\d+s\\s+commit 9{40} cannot be fetched`));
    expect(lines[2]).toMatch(new RegExp(`^${okId}\\s+hello\\s+local\\s+${FINAL_STATE}\\s+`));
  });

  it('`builds --app --json` prints JSON for scripts, and SLIPWAY_SERVER finds the server', async () => {
    const r = await run(['builds', '--app', 'hello', '--json'], { SLIPWAY_SERVER: rt.url });
    expect(r.code).toBe(0);
    const builds = JSON.parse(r.stdout) as { id: string; app: string }[];
    expect(builds.map((b) => b.id)).toEqual([okId]);
  });

  it('`logs` prints the stored log; `logs -f` exits 0 for a finished good build and 1 for a failed one', async () => {
    const text = await run(['logs', okId, '--server', rt.url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\[fetch\] checked out [0-9a-f]{40}/);
    const follow = await run(['logs', '-f', okId, '--server', rt.url]);
    expect(follow.code).toBe(0);
    expect(follow.stdout).toContain(`build ${FINAL_STATE}`);
    expect(follow.stderr).toContain(`build ${okId}: ${FINAL_STATE}`);
    const bad = await run(['logs', '-f', failedId, '--server', rt.url]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/ERROR .*SLW_FETCH_COMMIT_MISSING/);
  });

  it.each([
    [['logs', 'b-missing'], 1, /error: build b-missing does not exist.*\(SLW_NOT_FOUND\)/],
    [['builds', '--state', 'nope'], 2, /--state nope is not a build state/],
    [['frobnicate'], 2, /unknown command 'frobnicate'/],
    [['logs'], 2, /missing required argument 'build-id'/],
  ])('`slipway %j` exits %i with a clear message', async (args, code, message) => {
    const r = await run([...args, '--server', rt.url]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('says how to fix an unreachable server', async () => {
    const r = await run(['builds', '--server', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the Slipway server at http:\/\/127\.0\.0\.1:9 .*is it running \(slipway up\)\?/);
  });
});
