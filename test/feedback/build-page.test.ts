import { afterEach, describe, expect, it } from 'vitest';
import { appendLog, createBuild } from '../../src/store/index.js';
import { API_AUTH, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

describe('GET /builds/:id, the page every forge status links to', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.stop();
  });

  it('shows the build and its log as text, or as HTML (escaped) for browsers; 404 for unknown builds', async () => {
    rt = await startTestRuntime({ worker: false });
    const { build } = await createBuild(rt.store.db, {
      app: 'hello',
      target: 'local',
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      scope: 'branch:main',
      trigger: 'push',
      cloneUrl: '/x',
    });
    await appendLog(rt.store.db, { buildId: build.id, stage: 'fetch', level: 'info', line: 'fetched <script>alert(1)</script>' });
    const text = await rt.server!.inject({ method: 'GET', url: `/builds/${build.id}`, headers: API_AUTH });
    expect(text.statusCode).toBe(200);
    expect(text.headers['content-type']).toContain('text/plain');
    expect(text.body).toContain(`build   ${build.id}`);
    expect(text.body).toContain('[fetch] fetched <script>');
    const html = await rt.server!.inject({ method: 'GET', url: `/builds/${build.id}`, headers: { accept: 'text/html', ...API_AUTH } });
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.body).not.toContain('<script>');
    expect(html.body).toContain('http-equiv="refresh"');
    const missing = await rt.server!.inject({ method: 'GET', url: '/builds/b-nope', headers: API_AUTH });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'SLW_NOT_FOUND' });
  });
});
