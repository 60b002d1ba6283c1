import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectUploads } from '../../src/server/uploads/collect.js';
import { transitionBuild } from '../../src/store/index.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { makeTar, STATIC_TOKEN, staticTokenConfig } from './helpers.js';

/**
 * Stored uploads are collected once no queued or running build needs them and they are past
 * api.uploadRetention (real runtime and store; no worker, so uploaded builds stay queued until the test
 * moves them on).
 */
describe('collecting stored uploads', () => {
  let rt: TestRuntime;
  let dir: string;

  beforeAll(async () => {
    rt = await startTestRuntime({
      worker: false,
      config: { api: { tokens: staticTokenConfig }, apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } }] },
    });
    dir = resolve(rt.dir, rt.config.dataDir, 'uploads');
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('keeps an archive a queued build needs, removes it once the build ended, and sweeps crashed half-uploads', async () => {
    const res = await fetch(`${rt.url}/api/v1/apps/hello/builds`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip', authorization: `Bearer ${STATIC_TOKEN}` },
      body: await makeTar([{ name: 'Dockerfile', content: 'FROM scratch\n' }]),
    });
    expect(res.status).toBe(202);
    const build = (await res.json()) as { id: string };
    const [archive] = readdirSync(dir).filter((f) => f.endsWith('.tar.gz'));
    expect(archive).toMatch(/^[0-9a-f]{64}\.tar\.gz$/);
    const old = new Date(Date.now() - 2 * 3_600_000);
    writeFileSync(join(dir, '.incoming-0123abcd'), 'half an upload');
    utimesSync(join(dir, '.incoming-0123abcd'), old, old);
    writeFileSync(join(dir, 'notes.txt'), 'not Slipway’s');
    const later = Date.now() + 8 * 86_400_000;

    // Past the 7-day retention, but its build is still queued: only the crashed half-upload goes.
    expect(await collectUploads(rt.store.db, dir, { retentionMs: rt.config.api.uploadRetention, now: later })).toEqual(['.incoming-0123abcd']);
    expect(existsSync(join(dir, archive!))).toBe(true);
    // Within the retention nothing more goes even once the build ended.
    await transitionBuild(rt.store.db, build.id, ['queued'], 'canceled', { finishedAt: new Date().toISOString() });
    expect(await collectUploads(rt.store.db, dir, { retentionMs: rt.config.api.uploadRetention })).toEqual([]);
    // Past it, the archive goes; files that are not Slipway's stay.
    expect(await collectUploads(rt.store.db, dir, { retentionMs: rt.config.api.uploadRetention, now: later })).toEqual([archive]);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });
});
