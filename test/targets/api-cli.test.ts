import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { AppStatus, ServingTarget } from '../../src/targets/index.js';
import { dockerOk, docker } from '../enforcer/docker.js';
import { freePort } from '../helpers/ports.js';
import { API_AUTH, API_TOKEN, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { buildApp, get, testId } from './helpers.js';

/**
 * `GET /api/v1/apps/:app/revisions`, `PUT /api/v1/apps/:app/traffic` and `slipway revisions | traffic |
 * rollback` against a real runtime (server, store, Redis) whose local target runs real containers, its
 * router in the same process so every change is checked by a request through it.
 */

function capture() {
  let text = '';
  const stream = new Writable({ write: (c, _e, cb) => ((text += c.toString()), cb()) });
  return { stream, text: () => text };
}

let rt: TestRuntime;
let target: ServingTarget;
let router: string;
let server: string;

async function cli(...args: string[]) {
  const out = capture();
  const err = capture();
  const code = await main([...args, '--server', server], { env: { SLIPWAY_TOKEN: API_TOKEN }, stdout: out.stream, stderr: err.stream, cwd: rt.dir });
  return { code, stdout: out.text(), stderr: err.text() };
}

beforeAll(async () => {
  const id = testId();
  const repo = `slipway-test/serving-api-${id}`;
  const [v1, v2] = [await buildApp(repo, 'v1'), await buildApp(repo, 'v2')];
  const listen = `127.0.0.1:${await freePort()}`;
  rt = await startTestRuntime({ worker: false, config: { targets: { local: { kind: 'local', listen, idleTimeout: '5m' } } } });
  server = rt.url;
  router = `http://${listen}`;
  target = rt.targets.get('local')!;
  await target.serve!();
  for (const [n, image] of [
    [1, v1],
    [2, v2],
  ] as const) {
    await target.promote('web', {
      image,
      buildId: `b-000${n}`,
      commit: String(n).repeat(40),
      buildCreatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    });
  }
}, 120_000);

afterAll(async () => {
  await rt?.stop();
  // openTargets labels containers with the installation (the runtime's unique redisPrefix).
  const ids = (await dockerOk(['ps', '-aq', '--filter', `label=dev.slipway.installation=${rt.prefix}`])).split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
});

describe('serving HTTP API', () => {
  it('lists revisions with their traffic and tags', async () => {
    const res = await rt.server!.inject({ method: 'GET', url: '/api/v1/apps/web/revisions', headers: API_AUTH });
    expect(res.statusCode).toBe(200);
    const body = res.json() as AppStatus;
    expect(body).toMatchObject({ app: 'web', target: 'local', url: 'http://web.localhost', traffic: [{ revision: 'web-2', percent: 100 }] });
    expect(body.revisions.map((r) => [r.name, r.percent, r.state, r.build?.id])).toEqual([
      ['web-2', 100, 'ready', 'b-0002'],
      ['web-1', 0, 'ready', 'b-0001'],
    ]);
  });

  it('sets traffic, and answers problem+json for invalid bodies, unknown targets and stale generations', async () => {
    const put = (payload: unknown, url = '/api/v1/apps/web/traffic') =>
      rt.server!.inject({ method: 'PUT', url, payload: payload as object, headers: API_AUTH });
    const ok = await put({
      traffic: [
        { revision: 'web-1', percent: 50 },
        { latestRevision: true, percent: 50, tag: 'head' },
      ],
    });
    expect(ok.statusCode).toBe(200);
    const set = ok.json() as AppStatus;
    expect(set.traffic.map((t) => [t.revisionName, t.percent, t.tag])).toEqual([
      ['web-1', 50, undefined],
      ['web-2', 50, 'head'],
    ]);
    expect(await get(router, 'head-web.localhost')).toMatchObject({ status: 200, body: 'v2' });

    const cases: [unknown, string, number, string][] = [
      [{ traffic: [{ revision: 'web-1', percent: 70 }] }, '/api/v1/apps/web/traffic', 400, 'SLW_TRAFFIC_INVALID'],
      [{ traffic: [{ revision: 'web-1', percent: '100' }] }, '/api/v1/apps/web/traffic', 400, 'SLW_TRAFFIC_INVALID'],
      [{ traffic: [{ revision: 'web-1', percent: 100 }], extra: 1 }, '/api/v1/apps/web/traffic', 400, 'SLW_TRAFFIC_INVALID'],
      [{ traffic: [{ revision: 'web-1', percent: 100 }] }, '/api/v1/apps/web/traffic?target=prod', 404, 'SLW_TARGET_UNKNOWN'],
      [{ traffic: [{ revision: 'web-1', percent: 100 }] }, '/api/v1/apps/Not_An_App/traffic', 400, 'SLW_BAD_REQUEST'],
      [{ traffic: [{ revision: 'web-1', percent: 100 }], generation: set.generation - 1 }, '/api/v1/apps/web/traffic', 409, 'SLW_TRAFFIC_CONFLICT'],
    ];
    for (const [payload, url, status, code] of cases) {
      const res = await put(payload, url);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe(code);
    }
  });
});

describe('slipway revisions | traffic | rollback', () => {
  it('traffic sets a split and tags as kn does, revisions shows them, rollback moves everything to the previous ready revision', async () => {
    const split = await cli('traffic', 'web', '--traffic', 'web-2=80', '--traffic', 'web-1=20', '--tag', 'web-1=old', '--untag', 'head');
    expect(split.stderr).toBe('');
    expect(split.code).toBe(0);
    expect(split.stdout).toContain('80% → web-2');
    expect(split.stdout).toContain('tag old: http://old-web.localhost');

    const list = await cli('revisions', 'web');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+TRAFFIC\s+TAGS\s+STATE/);
    expect(list.stdout).toMatch(/web-2\s+80%\s+ready\s+2{12}\s+b-0002/);
    expect(list.stdout).toMatch(/web-1\s+20%\s+old\s+ready\s+1{12}\s+b-0001/);
    const json = JSON.parse((await cli('revisions', 'web', '--json')).stdout) as AppStatus;
    expect(json.revisions.map((r) => r.percent)).toEqual([80, 20]);

    const back = await cli('rollback', 'web');
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('rolled back web from web-2 to web-1');
    expect(await get(router, 'web.localhost')).toMatchObject({ status: 200, body: 'v1', revision: 'web-1' });
    expect(await get(router, 'old-web.localhost')).toMatchObject({ status: 200, revision: 'web-1' });

    // A retried promotion of the build rolled back from must not undo the rollback.
    const retried = await target.promote('web', {
      image: json.revisions[0]!.image,
      buildId: 'b-0002',
      commit: '2'.repeat(40),
      buildCreatedAt: json.revisions[0]!.build!.createdAt,
    });
    expect(retried).toMatchObject({ moved: false, revision: 'web-2' });
    expect(retried.reason).toMatch(/moved away/);

    const none = await cli('rollback', 'web');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no ready revision before web-1/);
    expect((await cli('traffic', 'web', '--traffic', 'web-1')).code).toBe(2);
    expect((await cli('traffic', 'web')).code).toBe(2);
    const bad = await cli('traffic', 'web', '--traffic', 'web-9=100');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/web-9 does not exist.*SLW_TRAFFIC_INVALID/);
  });
});
