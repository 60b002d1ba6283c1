import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBuild, getBuild, listStages, logsAfter } from '../../src/store/index.js';
import { API_AUTH, API_TOKEN, buildEnded, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { makeTar } from '../deploy/helpers.js';

/**
 * Uploads that cost a worker more than their size says (issue: worker starvation), through the real
 * server, queue, worker and SQLite: too many entries, a long unpack canceled halfway, a long unpack
 * under a short queue lock.
 */

const manyFiles = (n: number, extra: { name: string; content?: string }[] = []) =>
  makeTar([...extra, ...Array.from({ length: n }, (_, i) => ({ name: `d${i % 50}/f${i}` }))]);

describe('upload limits and long unpacks (real server, queue and worker)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const runtime = async (config: Record<string, unknown>): Promise<TestRuntime> => {
    const rt = await startTestRuntime({ config: { apps: [{ name: 'up', repo: 'github:octo/up', branches: { main: 'local' } }], ...config } });
    cleanups.push(() => rt.stop());
    return rt;
  };
  const upload = (rt: TestRuntime, body: Buffer, ref = 'refs/heads/main') =>
    fetch(`${rt.url}/api/v1/apps/up/builds?ref=${ref}`, { method: 'POST', headers: { 'content-type': 'application/gzip', ...API_AUTH }, body });

  it('refuses an upload with more entries than api.uploadMaxEntries (413 problem naming the key), storing nothing', async () => {
    const rt = await runtime({ api: { tokens: [{ name: 'tests', sha256: createHash('sha256').update(API_TOKEN).digest('hex') }], uploadMaxEntries: 50 } });
    const res = await upload(rt, await manyFiles(60));
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as { code: string; detail: string; limit: string };
    expect(body).toMatchObject({ code: 'SLW_UPLOAD_TOO_LARGE', limit: 'api.uploadMaxEntries' });
    expect(body.detail).toContain('more than api.uploadMaxEntries (50)');
    const uploads = resolve(rt.dir, rt.config.dataDir, 'uploads');
    expect((existsSync(uploads) ? readdirSync(uploads) : []).filter((n) => n.endsWith('.tar.gz'))).toEqual([]);
    expect((await upload(rt, await manyFiles(40))).status).toBe(202);
  });

  it('a worker refuses to unpack a stored archive past api.uploadMaxEntries', async () => {
    const rt = await runtime({ api: { tokens: [{ name: 'tests', sha256: createHash('sha256').update(API_TOKEN).digest('hex') }], uploadMaxEntries: 50 } });
    // Stored before the limit was lowered (or put there by hand): the server never saw it.
    const archive = await manyFiles(80);
    const sha = createHash('sha256').update(archive).digest('hex');
    const dir = resolve(rt.dir, rt.config.dataDir, 'uploads');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${sha}.tar.gz`), archive);
    const { build } = await createBuild(rt.store.db, {
      app: 'up',
      target: 'local',
      commit: sha,
      ref: 'refs/heads/main',
      scope: 'branch:main',
      trigger: 'upload',
      cloneUrl: join(dir, `${sha}.tar.gz`),
    });
    await rt.queue.enqueue([build.id]);
    const ended = await buildEnded(rt, build.id, 30_000);
    expect(ended).toMatchObject({ state: 'failed', errorCode: 'SLW_BUILD_CONTEXT', stage: 'fetch' });
    expect(ended.errorMessage).toContain('takes the upload past api.uploadMaxEntries (50 entries)');
  });

  it('a build superseded while it unpacks stops unpacking at once and its workspace goes', async () => {
    const rt = await runtime({});
    // Tens of thousands of empty files: unpacking takes far longer than this test waits after the cancel.
    const res = await upload(rt, await manyFiles(40_000, [{ name: 'Dockerfile', content: 'FROM scratch\n' }]));
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const workspace = resolve(rt.dir, rt.config.builds.workspace, id);
    await waitFor(async () => (existsSync(join(workspace, 'd0')) ? true : undefined), 'the unpack to be under way', 30_000);

    // A newer upload to the same branch supersedes it (cancel in progress).
    expect((await upload(rt, await makeTar([{ name: 'Dockerfile', content: 'FROM scratch\n' }]))).status).toBe(202);
    await waitFor(async () => ((await getBuild(rt.store.db, id))?.state === 'canceled' ? true : undefined), 'the build to be canceled');
    await waitFor(async () => (!existsSync(workspace) ? true : undefined), 'the unpack to stop and its workspace to go', 5_000);
    await waitFor(
      async () => ((await listStages(rt.store.db, id)).find((s) => s.stage === 'fetch')?.state === 'canceled' ? true : undefined),
      'the fetch stage to end canceled',
      5_000,
    );
  }, 90_000);

  it("a long unpack under a 2s queue lock is not taken for a dead worker's (not re-dispatched as stalled)", async () => {
    const rt = await runtime({});
    let stalled = 0;
    rt.worker!.worker.on('stalled', () => stalled++);
    const res = await upload(rt, await manyFiles(12_000));
    const { id } = (await res.json()) as { id: string };
    const ended = await buildEnded(rt, id, 120_000);
    const lines = (await logsAfter(rt.store.db, id)).map((l) => l.line);
    expect(lines.join('\n')).toContain('unpacked 12000 files');
    expect(stalled).toBe(0);
    expect(ended.attempts).toBe(1);
    expect(lines.filter((l) => l.startsWith('resuming') || l === '▶ fetch')).toEqual(['▶ fetch']);
  }, 150_000);
});
