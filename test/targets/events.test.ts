import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectEnforcer } from '../../src/injection/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import type { ServingTarget } from '../../src/targets/index.js';
import { buildAndPush, docker, dockerOk, enforcerArtifacts } from '../enforcer/docker.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { API_AUTH, API_TOKEN, BASE_IMAGE, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { get, REGISTRY, testId } from './helpers.js';

/**
 * The enforcer's runtime decisions flow back into Slipway: a real revision on the local target, from
 * an image injected with the enforcer in audit mode (every exec of something not in the image is
 * logged as `audited`; under the Landlock gate in enforce mode only the first command and memfd execs
 * are logged), whose app drops a copy of busybox in /tmp and runs it when asked. The router of the
 * runtime follows the container's stderr; the API and `slipway events` show the decision.
 */

const CGI = (script: string) => ({ data: `#!/bin/sh\necho 'Content-Type: text/plain'\necho\n${script}\n`, mode: 0o755 });

let rt: TestRuntime;
let target: ServingTarget;
let router: string;
let image: string;

beforeAll(async () => {
  const id = testId();
  const tag = `${REGISTRY}/slipway-test/events-${id}:audit`;
  await buildAndPush(tag, {
    Dockerfile: `FROM ${BASE_IMAGE}\nCOPY www /www\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
    'www/index.html': 'events',
    'www/cgi-bin/drift': CGI('mkdir -p /tmp && cp /bin/busybox /tmp/busybox && /tmp/busybox echo ran'),
  });
  enforcerArtifacts();
  image = (
    await injectEnforcer(new RegistryClient({ host: REGISTRY }), tag, `${tag}-slipway`, { policy: { mode: 'audit' }, labels: { 'dev.slipway.build': 'test' } })
  ).ref;
  const listen = `127.0.0.1:${await freePort()}`;
  rt = await startTestRuntime({ worker: false, router: true, config: { targets: { local: { kind: 'local', listen, idleTimeout: '5m' } } } });
  router = `http://${listen}`;
  target = rt.targets.get('local')!;
}, 180_000);

afterAll(async () => {
  await rt?.stop();
  const ids = (await dockerOk(['ps', '-aq', '--filter', `label=dev.slipway.installation=${rt?.prefix}`])).split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
});

interface EventsBody {
  events: { revision: string; decision: string; rule: string; path: string; count: number; sha256: string | null }[];
}

describe('runtime decisions of a served revision', () => {
  it('a dropped binary run by the app shows up as audited in GET /api/v1/apps/:app/events and in slipway events', async () => {
    const rev = await target.deploy('drift', { image });
    await target.setTraffic('drift', [{ revision: rev.name, percent: 100 }]);
    const reply = await get(router, 'drift.localhost', '/cgi-bin/drift');
    expect(reply).toMatchObject({ status: 200 });
    expect(reply.body).toContain('ran'); // audit mode lets it run

    const events = await waitFor(
      async () => {
        const res = await rt.server!.inject({ method: 'GET', url: `/api/v1/apps/drift/events?revision=${rev.name}`, headers: API_AUTH });
        expect(res.statusCode).toBe(200);
        const body = res.json() as EventsBody;
        return body.events.some((e) => e.path === '/tmp/busybox') ? body.events : undefined;
      },
      'an audited exec of /tmp/busybox',
      15_000,
    );
    const dropped = events.find((e) => e.path === '/tmp/busybox')!;
    expect(dropped).toMatchObject({ revision: rev.name, decision: 'audited', count: 1 });
    expect(dropped.sha256).toMatch(/^[0-9a-f]{64}$/);

    const cli = await runCli(['events', 'drift', '--server', rt.url], { env: { SLIPWAY_TOKEN: API_TOKEN } });
    expect(cli.code).toBe(0);
    const lines = cli.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+REVISION\s+DECISION\s+RULE\s+PATH\s+COUNT$/);
    expect(lines.find((l) => l.includes('/tmp/busybox'))).toMatch(new RegExp(`${rev.name}\\s+audited\\s+\\S+\\s+/tmp/busybox\\s+1$`));

    // Asked again, the same exec counts into the same row (same minute) or a new one, never lost.
    await get(router, 'drift.localhost', '/cgi-bin/drift');
    await waitFor(
      async () => {
        const body = (
          await rt.server!.inject({ method: 'GET', url: `/api/v1/apps/drift/events?revision=${rev.name}`, headers: API_AUTH })
        ).json() as EventsBody;
        const total = body.events.filter((e) => e.path === '/tmp/busybox').reduce((n, e) => n + e.count, 0);
        return total === 2 ? total : undefined;
      },
      'a second audited exec',
      15_000,
    );

    const metrics = await rt.server!.inject({ method: 'GET', url: '/metrics', headers: API_AUTH });
    expect(metrics.body).toMatch(new RegExp(`slipway_enforcer_decisions_total\\{app="drift",revision="${rev.name}",decision="audited"\\} [1-9]`));
  });

  it('answers 404 problem+json for an unknown app and 400 for bad query parameters', async () => {
    const unknown = await rt.server!.inject({ method: 'GET', url: '/api/v1/apps/nosuchapp/events', headers: API_AUTH });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    for (const q of ['limit=0', 'limit=abc', 'since=yesterday', 'revision=a&revision=b', 'revision=..%2Fx']) {
      const res = await rt.server!.inject({ method: 'GET', url: `/api/v1/apps/drift/events?${q}`, headers: API_AUTH });
      expect(res.statusCode, q).toBe(400);
    }
    const cli = await runCli(['events', 'nosuchapp', '--server', rt.url], { env: { SLIPWAY_TOKEN: API_TOKEN } });
    expect(cli.code).not.toBe(0);
  });
});
