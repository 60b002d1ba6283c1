import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { RuntimeEventRecorder } from '../../src/app/services/runtime-events.js';
import { commentMarkdown, summaryMarkdown } from '../../src/feedback/render.js';
import { snapshotOf } from '../../src/feedback/snapshot.js';
import { createLogger } from '../../src/log/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { createBuild, createServingRevision, listRuntimeEvents, type Store } from '../../src/store/index.js';
import { FrameDecoder, LineSplitter } from '../../src/targets/local/docker.js';
import { STORE_FACTORIES, type TestStore } from '../helpers/stores.js';

/**
 * Runtime decisions from the enforcer into the store (real SQLite and PostgreSQL): bursts collapse
 * into counted rows, a revision's distinct rows per minute are capped, a build's feedback is asked
 * for at most once per interval and its pull request comment says what was reported.
 */

const logger = createLogger({ level: 'silent' });
const SHA = 'a'.repeat(64);
const decision = (patch: Record<string, unknown> = {}): string =>
  `slipway-enforcer: ${JSON.stringify({ v: 1, ts: '2025-01-31T12:00:00.123Z', decision: 'denied', gate: 'seccomp', syscall: 'execve', path: '/tmp/x', sha256: SHA, pid: 42, uid: 1000, parent: 'sh', rule: 'not-in-manifest', detail: 'not in manifest', ...patch })}`;
const record = (app: string, revision: string, at: string, line: string) => [{ app, target: 'local', revision, container: 'c'.repeat(64), at }, line] as const;

const opened: TestStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.cleanup();
});

async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}

describe.each(STORE_FACTORIES)('runtime events on %s', (_name, factory) => {
  async function store(): Promise<Store> {
    const s = await factory();
    opened.push(s);
    return s.store;
  }

  it('500 identical denials in one minute (a crash loop) make one row with count 500', async () => {
    const db = await store();
    const metrics = createMetrics();
    const rec = new RuntimeEventRecorder({ store: db, logger, metrics, flushInterval: 60_000 });
    const base = Date.parse('2025-01-31T12:00:00.000Z');
    for (let i = 0; i < 500; i++) rec.record(...record('hello', 'hello-1', new Date(base + i * 10).toISOString(), decision()));
    await rec.close();
    const rows = await listRuntimeEvents(db.db, { app: 'hello', limit: 100 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      revision: 'hello-1',
      decision: 'denied',
      rule: 'not-in-manifest',
      path: '/tmp/x',
      sha256: SHA,
      uid: 1000,
      parent: 'sh',
      count: 500,
      firstAt: '2025-01-31T12:00:00.000Z',
      lastAt: '2025-01-31T12:00:04.990Z',
    });
    expect(await metricValue(metrics, 'slipway_enforcer_decisions_total')).toBe(500);
    // Flushes add up: 5 more after a write go into the same row.
    const again = new RuntimeEventRecorder({ store: db, logger, metrics });
    for (let i = 0; i < 5; i++) again.record(...record('hello', 'hello-1', '2025-01-31T12:00:30.000Z', decision()));
    await again.close();
    expect((await listRuntimeEvents(db.db, { app: 'hello', limit: 100 }))[0]?.count).toBe(505);
    // Another minute is another row.
    const later = new RuntimeEventRecorder({ store: db, logger });
    later.record(...record('hello', 'hello-1', '2025-01-31T12:01:00.000Z', decision()));
    await later.close();
    expect(await listRuntimeEvents(db.db, { app: 'hello', limit: 100 })).toHaveLength(2);
  });

  it('a revision printing endless distinct (forged) paths gets at most the row cap per minute; the rest only counts in metrics', async () => {
    const db = await store();
    const metrics = createMetrics();
    const rec = new RuntimeEventRecorder({ store: db, logger, metrics, rowsPerRevisionMinute: 100 });
    for (let i = 0; i < 150; i++) rec.record(...record('flood', 'flood-1', '2025-01-31T12:00:10.000Z', decision({ path: `/tmp/x${i}` })));
    // Another revision has its own budget.
    rec.record(...record('flood', 'flood-2', '2025-01-31T12:00:10.000Z', decision()));
    await rec.close();
    expect(await listRuntimeEvents(db.db, { app: 'flood', revision: 'flood-1', limit: 1000 })).toHaveLength(100);
    expect(await listRuntimeEvents(db.db, { app: 'flood', revision: 'flood-2', limit: 1000 })).toHaveLength(1);
    expect(await metricValue(metrics, 'slipway_enforcer_decisions_total')).toBe(151);
    expect(await metricValue(metrics, 'slipway_enforcer_decisions_unstored_total')).toBe(50);
  });
});

describe('runtime events back to the pull request', () => {
  it('asks for the build feedback at most once per interval, and the comment says how many execs were blocked', async () => {
    const s = await STORE_FACTORIES[0][1]();
    opened.push(s);
    const db = s.store;
    const config = configSchema.parse({
      apps: [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' }, previews: { target: 'local' } }],
      targets: { local: { kind: 'local' } },
    });
    const { build } = await createBuild(db.db, {
      app: 'hello',
      target: 'local',
      commit: 'b'.repeat(40),
      ref: 'refs/heads/feature',
      scope: 'pr:7',
      trigger: 'change_request',
      cloneUrl: 'https://github.com/octo/hello.git',
      forge: 'github',
      repo: 'octo/hello',
      prNumber: 7,
    });
    const rev = await createServingRevision(db.db, {
      app: 'hello',
      target: 'local',
      digest: `sha256:${'c'.repeat(64)}`,
      buildId: build.id,
      commit: build.commit,
      image: 'x',
      buildCreatedAt: build.createdAt,
      spec: '{}',
    });
    const asked: string[] = [];
    const rec = new RuntimeEventRecorder({ store: db, logger, notify: async (id) => void asked.push(id), notifyInterval: 300 });
    rec.record(...record('hello', rev.name, '2025-01-31T14:02:05.000Z', decision()));
    rec.record(...record('hello', rev.name, '2025-01-31T14:02:06.000Z', decision({ path: '/tmp/y' })));
    await rec.flush();
    rec.record(...record('hello', rev.name, '2025-01-31T14:02:07.000Z', decision({ decision: 'audited', path: '/tmp/z' })));
    await rec.flush();
    expect(asked).toEqual([build.id]);
    // The news after the first refresh is reported once the interval has passed.
    await new Promise((r) => setTimeout(r, 500));
    expect(asked).toEqual([build.id, build.id]);
    await rec.close();

    const snapshot = await snapshotOf(db, config, build);
    const comment = commentMarkdown({ number: 7, forge: 'github', builds: [snapshot], fork: false });
    expect(comment).toContain(`2 blocked executions and 1 execution outside the image (audit mode) reported in \`${rev.name}\` since 14:02 UTC`);
    expect(summaryMarkdown(snapshot)).toContain('- Runtime: ⚠️ 2 blocked executions');
  });

  it('a build whose revision reported nothing has no runtime line', async () => {
    const s = await STORE_FACTORIES[0][1]();
    opened.push(s);
    const config = configSchema.parse({});
    const { build } = await createBuild(s.store.db, {
      app: 'quiet',
      target: 'local',
      commit: 'd'.repeat(40),
      ref: 'refs/heads/main',
      scope: 'branch:main',
      trigger: 'push',
      cloneUrl: 'https://github.com/octo/quiet.git',
    });
    const comment = commentMarkdown({ number: 1, forge: 'github', builds: [await snapshotOf(s.store, config, build)], fork: false });
    expect(comment).not.toContain('blocked');
  });
});

describe("the Engine's log stream", () => {
  it('decodes frames split anywhere, keeps stderr only, and drops an over-long line whole', () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(payload.length, 4);
      return Buffer.concat([h, payload]);
    };
    const bytes = Buffer.concat([frame(2, 'one\ntw'), frame(1, 'stdout line\n'), frame(2, `o\n${'x'.repeat(100)}`), frame(2, 'yyy\nthree\n')]);
    const lines: string[] = [];
    const splitter = new LineSplitter(50, (l) => lines.push(l));
    const decoder = new FrameDecoder((stream, payload) => stream === 2 && splitter.push(payload));
    for (let i = 0; i < bytes.length; i += 3) decoder.push(bytes.subarray(i, i + 3));
    expect(lines).toEqual(['one', 'two', 'three']);
  });
});
