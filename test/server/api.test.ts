/* eslint-disable @typescript-eslint/no-explicit-any -- API response bodies are inspected freely in assertions */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { GitHttpServer } from '../helpers/git-http.js';
import { API_AUTH, startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';

/** Reads an SSE response until it ends, returning the frames. */
async function readSse(url: string, headers: Record<string, string> = {}): Promise<{ event: string; data: any; id?: string }[]> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...API_AUTH, ...headers } });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.includes('data: '))
    .map((frame) => {
      const get = (k: string) =>
        frame
          .split('\n')
          .find((l) => l.startsWith(`${k}: `))
          ?.slice(k.length + 2);
      return { event: get('event') ?? 'message', data: JSON.parse(get('data')!), ...(get('id') ? { id: get('id') } : {}) };
    });
}

describe('builds API (real server on loopback, Redis, SQLite, git)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;
  let git: GitHttpServer;

  beforeAll(async () => {
    repo = new TestRepo();
    git = new GitHttpServer(repo.bare);
    const url = await git.start();
    rt = await startTestRuntime({
      config: {
        apps: [
          { name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' } },
          { name: 'slow', repo: 'github:octo/slow', cloneUrl: url, branches: { main: 'local' } },
        ],
      },
    });
  });
  afterAll(async () => {
    await git?.stop();
    await rt?.stop();
    repo?.cleanup();
  });

  const push = async (repoName: string, commit: string) => {
    const req = signedGithub('push', githubPush({ repo: repoName, commit }), WEBHOOK_SECRET);
    const res = await fetch(`${rt.url}/webhooks/github`, { method: 'POST', headers: req.headers, body: req.body });
    expect(res.status).toBe(202);
    return ((await res.json()) as { builds: { id: string }[] }).builds[0]!.id;
  };
  const finished = (id: string) =>
    waitFor(async () => {
      const b = await getBuild(rt.store.db, id);
      return b && [FINAL_STATE, 'failed', 'canceled'].includes(b.state) ? b : undefined;
    }, `build ${id} to finish`);

  it('lists builds newest first, filters by app and state, and shows one build with its stages', async () => {
    const id = await push('octo/hello', repo.commit({ a: '1', ...servingApp() }));
    await finished(id);
    const all = (await (await fetch(`${rt.url}/api/v1/builds`, { headers: API_AUTH })).json()) as { builds: any[] };
    expect(all.builds[0]).toMatchObject({ id, app: 'hello', state: FINAL_STATE, url: `http://127.0.0.1:8080/builds/${id}` });
    expect(all.builds[0]).not.toHaveProperty('clone_url');
    const filtered = (await (await fetch(`${rt.url}/api/v1/builds?app=hello&state=built`, { headers: API_AUTH })).json()) as { builds: any[] };
    expect(filtered.builds.every((b) => b.app === 'hello' && b.state === FINAL_STATE)).toBe(true);
    expect(((await (await fetch(`${rt.url}/api/v1/builds?app=nope`, { headers: API_AUTH })).json()) as { builds: any[] }).builds).toEqual([]);
    const one = (await (await fetch(`${rt.url}/api/v1/builds/${id}`, { headers: API_AUTH })).json()) as any;
    expect(one.stages.filter((s: { stage: string }) => ['fetch', 'build'].includes(s.stage))).toMatchObject([
      { stage: 'fetch', state: 'done' },
      { stage: 'build', state: 'done' },
    ]);
    expect(one.steps.length).toBeGreaterThan(0);
    expect(one.decisions).toEqual([]);
  });

  it.each([
    ['/api/v1/builds?state=bogus', 400, 'SLW_BAD_REQUEST', /not a build state/],
    ['/api/v1/builds?limit=0', 400, 'SLW_BAD_REQUEST', /limit/],
    ['/api/v1/builds/b-nope', 404, 'SLW_NOT_FOUND', /does not exist/],
    ['/api/v1/builds/b-nope/logs', 404, 'SLW_NOT_FOUND', /does not exist/],
    ['/api/v1/nothing-here', 404, 'SLW_NOT_FOUND', /no route/],
  ])('GET %s → %i problem+json', async (path, status, code, detail) => {
    const res = await fetch(`${rt.url}${path}`, { headers: API_AUTH });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ status, code, type: `urn:slipway:error:${code}` });
    expect(body.detail).toMatch(detail);
  });

  it('serves logs as text, and as SSE that replays stored lines and ends with the final state', async () => {
    const sha = repo.commit({ b: '2', ...servingApp() });
    const id = await push('octo/hello', sha);
    await finished(id);
    const text = await (await fetch(`${rt.url}/api/v1/builds/${id}/logs`, { headers: API_AUTH })).text();
    expect(text).toContain(`[fetch] checked out ${sha}`);
    const frames = await readSse(`${rt.url}/api/v1/builds/${id}/logs`);
    const logLines = frames.filter((f) => f.event === 'log').map((f) => f.data.line);
    expect(logLines).toContain(`checked out ${sha}`);
    expect(frames.at(-1)).toEqual({ event: 'end', data: { state: FINAL_STATE } });
    // Last-Event-ID resumes after the given line, as EventSource does on reconnect.
    const logs = frames.filter((f) => f.event === 'log');
    const resumed = await readSse(`${rt.url}/api/v1/builds/${id}/logs`, { 'last-event-id': logs.at(-2)!.id! });
    expect(resumed.filter((f) => f.event === 'log').map((f) => f.data.line)).toEqual([logs.at(-1)!.data.line]);
  });

  it('streams live lines of a running build over SSE, then the end', async () => {
    git.hold();
    const id = await push('octo/slow', repo.commit({ c: '3', ...servingApp() }));
    await waitFor(async () => (git.uploadPacks > 0 ? true : undefined), 'the build to be fetching');
    const stream = readSse(`${rt.url}/api/v1/builds/${id}/logs`);
    await new Promise((r) => setTimeout(r, 300));
    git.release();
    const frames = await stream;
    const lines = frames.filter((f) => f.event === 'log').map((f) => f.data.line);
    expect(lines).toContain('▶ fetch');
    expect(lines).toContain(`build ${FINAL_STATE}`);
    // Every line once, in order: replay and live did not overlap or leave a gap.
    const ids = frames.filter((f) => f.event === 'log').map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(frames.at(-1)).toEqual({ event: 'end', data: { state: FINAL_STATE } });
  });

  it('lists configured apps', async () => {
    const body = (await (await fetch(`${rt.url}/api/v1/apps`, { headers: API_AUTH })).json()) as any;
    expect(body.apps.map((a: any) => a.name)).toEqual(['hello', 'slow']);
  });

  it('answers /healthz and /readyz, and /metrics has stage durations', async () => {
    expect(await (await fetch(`${rt.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${rt.url}/readyz`)).json()).toEqual({ status: 'ok', checks: { redis: 'ok', database: 'ok' } });
    const metrics = await (await fetch(`${rt.url}/metrics`, { headers: API_AUTH })).text();
    expect(metrics).toMatch(/slipway_stage_duration_seconds_count\{stage="fetch",outcome="done"\} [1-9]/);
  });
});

describe('/readyz when Redis is gone', () => {
  it('answers 503 naming what is not ready', async () => {
    const rt = await startTestRuntime({ worker: false });
    try {
      rt.redis.disconnect();
      const res = await rt.server!.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'SLW_UNAVAILABLE', checks: { database: 'ok' } });
      expect(res.json().checks.redis).not.toBe('ok');
    } finally {
      await rt.stop();
    }
  });
});
