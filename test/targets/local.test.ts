import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { waitFor } from '../helpers/runtime.js';
import { buildApp, countContainers, get, harness, removeTestContainers, testId, type Harness } from './helpers.js';

/**
 * The local target end to end against the real Docker Engine and registry: images built in the test
 * (busybox httpd), containers with host networking on loopback ports, the router on a free port.
 * Every container carries `dev.slipway.test=<id>` and is removed in afterAll.
 */

const id = testId();
const repo = `slipway-test/serving-${id}`;
let v1: string;
let v2: string;
const open: Harness[] = [];

async function make(overrides: Parameters<typeof harness>[1] = {}): Promise<Harness> {
  const h = await harness(id, overrides);
  open.push(h);
  await h.serve();
  return h;
}

beforeAll(async () => {
  v1 = await buildApp(repo, 'v1');
  v2 = await buildApp(repo, 'v2');
}, 120_000);

afterAll(async () => {
  for (const h of open) await h.close().catch(() => undefined);
  await removeTestContainers(id);
});

const build = (n: number, commit = String(n).repeat(40)) => ({
  buildId: `b-${String(n).padStart(4, '0')}`,
  commit,
  buildCreatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
});

describe('local target: deploy and route', () => {
  it('deploys <app>-1, serves it at <app>.<domain> with the runtime contract env and X-Slipway-Revision; unknown hosts get 404 naming the host', async () => {
    const h = await make();
    const rev = await h.target.deploy('hello', { image: v1, env: { GREETING: 'hi' } });
    expect(rev).toMatchObject({ name: 'hello-1', n: 1, state: 'ready', image: v1 });
    await h.target.setTraffic('hello', [{ latestRevision: true, percent: 100 }]);

    const home = await get(h.router, 'hello.localhost');
    expect(home).toMatchObject({ status: 200, body: 'v1', revision: 'hello-1' });
    const env = await get(h.router, 'hello.localhost:8081', '/cgi-bin/env');
    expect(env.body).toMatch(/^PORT=\d+ K_SERVICE=hello K_CONFIGURATION=hello K_REVISION=hello-1$/m);

    const unknown = await get(h.router, 'nope.localhost');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(unknown.body).detail).toContain('"nope.localhost"');

    const status = await h.target.status('hello');
    expect(status).toMatchObject({ url: 'http://hello.localhost', generation: 1, traffic: [{ latestRevision: true, percent: 100, revisionName: 'hello-1' }] });
  });

  it('splits 80/20 over 1,000 requests within ±5 points, and tag hosts reach the tagged revision', async () => {
    const h = await make();
    const r1 = await h.target.deploy('split', { image: v1 });
    const r2 = await h.target.deploy('split', { image: v2 });
    await h.target.setTraffic('split', [
      { revision: r1.name, percent: 80, tag: 'stable' },
      { revision: r2.name, percent: 20 },
      { revision: r2.name, percent: 0, tag: 'candidate' },
    ]);
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const seen = new Map<string, number>();
    for (let batch = 0; batch < 50; batch++) {
      const replies = await Promise.all(Array.from({ length: 20 }, () => get(h.router, 'split.localhost', '/', agent)));
      for (const r of replies) {
        expect(r.status).toBe(200);
        expect(r.body).toBe(r.revision === r1.name ? 'v1' : 'v2');
        seen.set(r.revision!, (seen.get(r.revision!) ?? 0) + 1);
      }
    }
    agent.destroy();
    const share = (seen.get(r1.name) ?? 0) / 1000;
    expect(Math.abs(share - 0.8)).toBeLessThanOrEqual(0.05);

    expect(await get(h.router, 'candidate-split.localhost')).toMatchObject({ status: 200, body: 'v2', revision: r2.name });
    expect(await get(h.router, 'stable-split.localhost')).toMatchObject({ status: 200, body: 'v1', revision: r1.name });
    const status = await h.target.removeTag('split', 'candidate');
    expect(status.traffic.map((t) => t.tag).filter(Boolean)).toEqual(['stable']);
    expect((await get(h.router, 'candidate-split.localhost')).status).toBe(404);
    // Removing it again is a no-op (a preview closed twice).
    expect((await h.target.removeTag('split', 'candidate')).generation).toBe(status.generation);
  }, 90_000); // 1,000 requests through the enforcer's socket to busybox httpd (a fork per connection): ~25 s here, more under load

  it('rejects invalid traffic with every problem at once', async () => {
    const h = await make();
    await h.target.deploy('strict', { image: v1 });
    const err = await h.target
      .setTraffic('strict', [
        { revision: 'strict-9', percent: 50, tag: 'Bad_Tag' },
        { latestRevision: true, percent: 30 },
      ])
      .catch((e: unknown) => e);
    expect(isSlipwayError(err, 'SLW_TRAFFIC_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/strict-9 does not exist.*tag "Bad_Tag".*sum to 80/);
  });
});

describe('local target: scale to zero and back', () => {
  it('pauses after idleTimeout, removes after removeAfter, and answers 20 concurrent cold requests from paused and from removed without one failing', async () => {
    const h = await make({ idleTimeout: 700, removeAfter: 1200 });
    const rev = await h.target.deploy('cold', { image: v1 });
    await h.target.setTraffic('cold', [{ revision: rev.name, percent: 100 }]);
    expect((await get(h.router, 'cold.localhost')).status).toBe(200);

    await waitFor(async () => (h.target.containerCounts(rev.name)?.paused === 1 ? true : undefined), 'the container to be paused', 5000);
    expect(await countContainers(id, 'paused')).toBeGreaterThanOrEqual(1);
    const fromPaused = await Promise.all(Array.from({ length: 20 }, () => get(h.router, 'cold.localhost')));
    expect(fromPaused.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(h.target.containerCounts(rev.name)).toMatchObject({ ready: 1, paused: 0 });

    await waitFor(async () => (h.target.containerCounts(rev.name)?.paused === 1 ? true : undefined), 'paused again', 5000);
    await waitFor(
      async () => {
        const c = h.target.containerCounts(rev.name);
        return c && c.paused + c.ready === 0 ? true : undefined;
      },
      'the container to be removed',
      8000,
    );
    const fromRemoved = await Promise.all(Array.from({ length: 20 }, () => get(h.router, 'cold.localhost')));
    expect(fromRemoved.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(fromRemoved.every((r) => r.body === 'v1' && r.revision === rev.name)).toBe(true);
    // One container answered them all (the concurrency target is 100).
    expect(h.target.containerCounts(rev.name)).toMatchObject({ ready: 1, launching: 0 });
  }, 40_000);

  it('scales out above the concurrency target up to maxScale, and back in with a graceful drain', async () => {
    const h = await make({ concurrency: 1, maxScale: 3, stableWindow: 1500, idleTimeout: 60_000 });
    const rev = await h.target.deploy('busy', { image: v1 });
    await h.target.setTraffic('busy', [{ revision: rev.name, percent: 100 }]);
    // Three slow requests (1 s each) at once: the soft target of 1 makes the pool start more containers.
    const slow = await Promise.all(Array.from({ length: 3 }, () => get(h.router, 'busy.localhost', '/cgi-bin/slow')));
    expect(slow.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitFor(async () => ((h.target.containerCounts(rev.name)?.ready ?? 0) >= 2 ? true : undefined), 'a scale-out', 5000);
    expect(h.target.containerCounts(rev.name)!.ready).toBeLessThanOrEqual(3);

    // Keep one slow request in flight while the window passes: the drained container must not cut it.
    const inflight = Array.from({ length: 2 }, () => get(h.router, 'busy.localhost', '/cgi-bin/slow'));
    await waitFor(async () => (h.target.containerCounts(rev.name)?.ready === 1 ? true : undefined), 'the scale-in to one container', 10_000);
    expect((await Promise.all(inflight)).map((r) => r.status)).toEqual([200, 200]);
    await waitFor(async () => (h.target.containerCounts(rev.name)?.draining === 0 ? true : undefined), 'drained containers to stop', 10_000);
  }, 40_000);
});

describe('local target: state survives restarts; promotion; names', () => {
  it('a restarted router keeps every route and adopts the running containers instead of starting new ones', async () => {
    const h = await make();
    const rev = await h.target.deploy('keep', { image: v1 });
    await h.target.setTraffic('keep', [{ revision: rev.name, percent: 100, tag: 'pinned' }]);
    expect((await get(h.router, 'keep.localhost')).status).toBe(200);
    const before = await countContainers(id, 'running');

    await h.restart();
    expect(h.target.containerCounts(rev.name)).toMatchObject({ ready: 1, launching: 0 });
    expect(await get(h.router, 'keep.localhost')).toMatchObject({ status: 200, revision: rev.name });
    expect(await get(h.router, 'pinned-keep.localhost')).toMatchObject({ status: 200, revision: rev.name });
    expect(await countContainers(id, 'running')).toBe(before);
  });

  it('promotes monotonically by build creation order, idempotently, and says why an older build does not move', async () => {
    const h = await make();
    const newer = await h.target.promote('mono', { image: v2, ...build(2) });
    expect(newer).toMatchObject({ revision: 'mono-1', url: 'http://mono.localhost', moved: true });
    expect(await get(h.router, 'mono.localhost')).toMatchObject({ body: 'v2', revision: 'mono-1' });

    const older = await h.target.promote('mono', { image: v1, ...build(1) });
    expect(older.moved).toBe(false);
    expect(older.revision).toBeUndefined();
    expect(older.reason).toMatch(/serves mono-1 .*newer build than b-0001/);
    expect(await get(h.router, 'mono.localhost')).toMatchObject({ body: 'v2' });

    const again = await h.target.promote('mono', { image: v2, ...build(2) });
    expect(again).toMatchObject({ revision: 'mono-1', moved: true });
    expect((await h.target.listRevisions('mono')).map((r) => r.name)).toEqual(['mono-1']);

    const preview = await h.target.promote('mono', { image: v1, ...build(3), tag: 'pr-7' });
    expect(preview).toMatchObject({ revision: 'mono-2', moved: true, tagUrl: 'http://pr-7-mono.localhost' });
    expect(await get(h.router, 'pr-7-mono.localhost')).toMatchObject({ body: 'v1', revision: 'mono-2' });
    expect(await get(h.router, 'mono.localhost')).toMatchObject({ body: 'v2', revision: 'mono-1' });

    const latest = await h.target.promote('mono', { image: v1, ...build(4) });
    expect(latest).toMatchObject({ revision: 'mono-3', moved: true });
    expect((await h.target.status('mono')).traffic).toEqual([
      { revision: 'mono-3', percent: 100, revisionName: 'mono-3' },
      { revision: 'mono-2', percent: 0, tag: 'pr-7', revisionName: 'mono-2', url: 'http://pr-7-mono.localhost' },
    ]);
  }, 40_000);

  it('concurrent promotions of different builds end with the newest serving', async () => {
    const h = await make();
    const results = await Promise.all([5, 7, 6].map((n) => h.target.promote('race', { image: n % 2 ? v1 : v2, ...build(n) })));
    const serving = (await h.target.status('race')).traffic.find((t) => t.percent === 100)!.revisionName;
    const winner = results.find((r) => r.moved && r.revision === serving);
    expect(winner).toBeDefined();
    const revisions = await h.target.listRevisions('race');
    expect(revisions.find((r) => r.name === serving)?.build?.id).toBe('b-0007');
  }, 40_000);

  it('never reuses a revision name after a delete, refuses to delete one that takes traffic, and collects old unreferenced revisions', async () => {
    const h = await make({ keepRevisions: 1 });
    const a = await h.target.deploy('names', { image: v1 });
    await h.target.setTraffic('names', [{ revision: a.name, percent: 100 }]);
    const inUse = await h.target.deleteRevision('names', a.name).catch((e: unknown) => e);
    expect(isSlipwayError(inUse, 'SLW_REVISION_IN_USE')).toBe(true);

    const b = await h.target.deploy('names', { image: v2 });
    await h.target.deleteRevision('names', b.name);
    const c = await h.target.deploy('names', { image: v2 });
    expect([a.name, b.name, c.name]).toEqual(['names-1', 'names-2', 'names-3']);
    const d = await h.target.deploy('names', { image: v1 });
    const e = await h.target.deploy('names', { image: v2 });
    // names-1 serves, names-5 is the latest; of the unreferenced names-3 and names-4 only the newest one stays.
    expect((await h.target.listRevisions('names')).map((r) => r.name)).toEqual([e.name, d.name, a.name]);
    // Collected revisions lose their containers too.
    expect(await countContainers(id, undefined, { 'dev.slipway.revision': c.name })).toBe(0);
    expect(await countContainers(id, undefined, { 'dev.slipway.revision': e.name })).toBe(1);
  }, 40_000);
});
