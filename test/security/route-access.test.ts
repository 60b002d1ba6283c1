import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { ApiAuth } from '../../src/server/auth/authenticate.js';
import { registerApiAuth } from '../../src/server/plugins/api-auth.js';
import { listBuilds } from '../../src/store/index.js';
import { API_AUTH, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { makeTar } from '../deploy/helpers.js';
import { rawRequest } from './raw-http.js';

/**
 * An attack run changed traffic and deployed an upload with no token by spelling the path another way
 * (`/%61pi/v1/…`): the auth hook looked at the URL text while routing decoded it. Authorization now
 * follows the route that matched. Every write route, in every spelling that might reach it, must either
 * not match (404) or be refused (401); nothing may change.
 */
const WRITES: [method: string, path: string, body: string, type: string][] = [
  ['PUT', '/api/v1/apps/hello/traffic', '{"traffic":[{"latestRevision":true,"percent":100}]}', 'application/json'],
  ['POST', '/api/v1/apps/hello/builds', 'TARBALL', 'application/gzip'],
  ['POST', '/api/v1/apps/hello/promotions', '{"image":"127.0.0.1:5000/slipway/hello@sha256:' + 'a'.repeat(64) + '"}', 'application/json'],
  ['PATCH', '/api/v1/apps/hello/env', '{"set":{"GREETING":"pwned"}}', 'application/json'],
];

/** Spellings of one path an attacker would try: encoded, doubled slashes, dot segments, absolute-form, case. */
function spellings(path: string, host: string): string[] {
  const rest = path.slice('/api/v1/'.length);
  return [
    path,
    `/%61pi/v1/${rest}`,
    `/api/v%31/${rest}`,
    `/%61%70%69/v1/${rest}`,
    `/api/v1/${rest.replace('hello', '%68ello')}`,
    `//api/v1/${rest}`,
    `/api//v1/${rest}`,
    `/api/v1//${rest}`,
    `/api/./v1/${rest}`,
    `/x/../api/v1/${rest}`,
    `/api/v1/${rest}/`,
    `/api/v1/${rest}?x=1`,
    `/api/v1/${rest}%3Fx=1`,
    `/API/v1/${rest}`,
    `/Api/V1/${rest}`,
    `/api/v1/${rest.toUpperCase()}`,
    `http://${host}/api/v1/${rest}`,
    `http://${host}/%61pi/v1/${rest}`,
    `http://evil.example/api/v1/${rest}`,
    `/api/v1/${rest};x=1`,
    `/api/v1/${rest}%00`,
  ];
}

describe('route authorization (real server on loopback)', () => {
  let rt: TestRuntime;
  let context: string;
  beforeAll(async () => {
    context = (await makeTar([{ name: 'Dockerfile', content: 'FROM scratch\n' }])).toString('latin1');
    rt = await startTestRuntime({
      worker: false,
      config: { apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } }] },
    });
  });
  afterAll(async () => rt?.stop());

  const host = () => new URL(rt.url).host;

  it.each(WRITES)('%s %s in every spelling, without a token: refused or not found, nothing changes', async (method, path, body, type) => {
    for (const target of spellings(path, host())) {
      const res = await rawRequest(rt.url, method, target, { 'content-type': type }, body === 'TARBALL' ? context : body);
      // 401: refused by the route's declaration; 404: no route; 400 only for a target the router cannot parse
      // (never a route's own judgement of the body, which would mean the route was reached).
      expect([400, 401, 404], `${method} ${target} answered ${res.status}`).toContain(res.status);
      if (res.status === 400) expect(JSON.parse(res.body).code, `${method} ${target}`).toBe('SLW_BAD_REQUEST');
    }
    expect(await listBuilds(rt.store.db, {})).toEqual([]);
    const revisions = await rawRequest(rt.url, 'GET', '/api/v1/apps/hello/revisions', API_AUTH);
    expect(revisions.status).toBe(200);
    expect(JSON.parse(revisions.body)).toMatchObject({ traffic: [] });
  });

  it('the same write with the token reaches the route (the spellings above were refused, not broken)', async () => {
    const res = await rawRequest(rt.url, 'POST', '/%61pi/v1/apps/hello/builds', { 'content-type': 'application/gzip', ...API_AUTH }, 'not a tarball');
    // Authorized: the route itself now judges the body.
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'SLW_UPLOAD_INVALID' });
  });

  it.each(['/api/v1/builds', '/api/v1/apps', '/api/v1/apps/hello/revisions', '/metrics', '/builds/b-x'])(
    'GET %s in every spelling needs a token by default',
    async (path) => {
      const targets = path.startsWith('/api/v1/')
        ? spellings(path, host())
        : [path, `http://${host()}${path}`, `/${path.slice(1).replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`)}`];
      for (const target of targets) {
        const res = await rawRequest(rt.url, 'GET', target);
        expect([400, 401, 404], `GET ${target} answered ${res.status}`).toContain(res.status);
      }
    },
  );

  it('answers 400, not 500, for a repeated query parameter', async () => {
    const res = await rawRequest(rt.url, 'GET', '/api/v1/builds?app=a&app=b', API_AUTH);
    expect(res.status).toBe(400);
    expect(res.head.toLowerCase()).toContain('application/problem+json');
  });

  it.each(['/git/hello.git/../../etc/passwd', '/git/hello.git/%2e%2e/%2e%2e/x', '/git/..%2fhello.git/info/refs', '/git/hello.git/objects/../../../x'])(
    'answers 4xx, not 500, for a git path that climbs: %s',
    async (target) => {
      const res = await rawRequest(rt.url, 'GET', target, API_AUTH);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    },
  );

  it('sends nosniff everywhere and a CSP with the build page', async () => {
    const res = await rawRequest(rt.url, 'GET', '/api/v1/builds', API_AUTH);
    expect(res.head.toLowerCase()).toContain('x-content-type-options: nosniff');
    const page = await rawRequest(rt.url, 'GET', '/builds/b-nope', { ...API_AUTH, accept: 'text/html' });
    expect(page.head.toLowerCase()).toContain('x-content-type-options: nosniff');
  });
});

describe('deny by default', () => {
  it('refuses to start a server with a route that declares no access', async () => {
    const app = Fastify();
    const config = configSchema.parse({});
    registerApiAuth(app, new ApiAuth(config.api, config.apps), { publicReads: false });
    expect(() => app.get('/api/v1/forgotten', async () => 'oops')).toThrow(/declares no access/);
    await app.close();
  });
});

describe("image promotions come only from Slipway's registry (SSRF)", () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({ worker: false, config: { apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } }] } });
  });
  afterAll(async () => rt?.stop());

  it.each(['169.254.169.254/latest/meta', '127.0.0.1:6379/x', 'localhost:5000/slipway/hello', 'ghcr.io/octo/hello'])(
    'refuses %s with 400 and stores nothing',
    async (repository) => {
      const res = await rawRequest(
        rt.url,
        'POST',
        '/api/v1/apps/hello/promotions',
        { 'content-type': 'application/json', ...API_AUTH },
        JSON.stringify({ image: `${repository}@sha256:${'a'.repeat(64)}` }),
      );
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).detail).toContain('registry.url');
      expect(await listBuilds(rt.store.db, {})).toEqual([]);
    },
  );
});
