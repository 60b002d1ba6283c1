import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendLog,
  beginStage,
  createBuild,
  createRevision,
  finishStage,
  getBuild,
  getDelivery,
  insertDelivery,
  listBuilds,
  listBuildSteps,
  listDecisions,
  listQueuedBuildIds,
  listRevisions,
  listStages,
  logsAfter,
  recordDecision,
  replaceBuildSteps,
  setDeliveryBuilds,
  supersedeOlder,
  transitionBuild,
  type NewBuild,
} from '../../src/store/index.js';
import { STORE_FACTORIES, type TestStore } from '../helpers/stores.js';

const sha = (c: string) => c.repeat(40).slice(0, 40);
const build = (over: Partial<NewBuild> = {}): NewBuild => ({
  app: 'hello',
  target: 'local',
  commit: sha('a'),
  ref: 'refs/heads/main',
  scope: 'branch:main',
  trigger: 'push',
  cloneUrl: '/tmp/hello.git',
  ...over,
});

describe.each(STORE_FACTORIES)('store on %s', (_name, factory) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await factory();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('records a delivery once and reports the second as a duplicate', async () => {
    const d = {
      forge: 'github',
      deliveryId: 'd-1',
      event: 'push',
      repo: 'octo/hello',
      receivedAt: new Date().toISOString(),
      outcome: 'accepted' as const,
      reason: null,
    };
    expect(await insertDelivery(t.store.db, d)).toBe(true);
    expect(await insertDelivery(t.store.db, d)).toBe(false);
    // The same id from another forge is another delivery.
    expect(await insertDelivery(t.store.db, { ...d, forge: 'gitlab' })).toBe(true);
    await setDeliveryBuilds(t.store.db, 'github', 'd-1', ['b-1'], null);
    expect((await getDelivery(t.store.db, 'github', 'd-1'))!.buildIds).toEqual(['b-1']);
  });

  it('makes one build for the same app, target and commit', async () => {
    const first = await createBuild(t.store.db, build());
    const second = await createBuild(t.store.db, build({ ref: 'refs/heads/other' }));
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.build.id).toBe(first.build.id);
    const otherTarget = await createBuild(t.store.db, build({ target: 'prod' }));
    expect(otherTarget.created).toBe(true);
    expect(await listBuilds(t.store.db, { app: 'hello' })).toHaveLength(2);
  });

  it('builds a commit again once its earlier build was canceled', async () => {
    const first = await createBuild(t.store.db, build());
    await transitionBuild(t.store.db, first.build.id, ['queued'], 'canceled');
    const again = await createBuild(t.store.db, build());
    expect(again.created).toBe(true);
    expect(again.build.id).not.toBe(first.build.id);
  });

  it('supersedes older unfinished builds of the same branch only', async () => {
    const old = await createBuild(t.store.db, build({ commit: sha('1') }));
    const running = await createBuild(t.store.db, build({ commit: sha('2') }));
    await transitionBuild(t.store.db, running.build.id, ['queued'], 'fetching');
    const done = await createBuild(t.store.db, build({ commit: sha('3') }));
    await transitionBuild(t.store.db, done.build.id, ['queued'], 'fetched');
    const otherBranch = await createBuild(t.store.db, build({ commit: sha('4'), scope: 'branch:dev', ref: 'refs/heads/dev' }));
    const newest = await createBuild(t.store.db, build({ commit: sha('5') }));

    const canceled = await supersedeOlder(t.store.db, newest.build);
    expect(canceled.sort()).toEqual([old.build.id, running.build.id].sort());
    const row = await getBuild(t.store.db, running.build.id);
    expect(row).toMatchObject({ state: 'canceled', supersededBy: newest.build.id, errorCode: 'SLW_BUILD_CANCELED' });
    expect((await getBuild(t.store.db, done.build.id))!.state).toBe('fetched');
    expect((await getBuild(t.store.db, otherBranch.build.id))!.state).toBe('queued');
    expect(await listQueuedBuildIds(t.store.db)).toEqual([otherBranch.build.id, newest.build.id]);
  });

  it('moves state only from the expected states', async () => {
    const { build: b } = await createBuild(t.store.db, build());
    expect(await transitionBuild(t.store.db, b.id, ['queued'], 'fetching', { startedAt: 'x' })).toMatchObject({ state: 'fetching' });
    await transitionBuild(t.store.db, b.id, ['fetching'], 'canceled');
    // A worker that missed the cancel cannot move the build on.
    expect(await transitionBuild(t.store.db, b.id, ['fetching'], 'fetched')).toBeUndefined();
    expect((await getBuild(t.store.db, b.id))!.state).toBe('canceled');
    expect(await listBuilds(t.store.db, { state: 'canceled' })).toHaveLength(1);
    expect(await listBuilds(t.store.db, { state: 'queued' })).toHaveLength(0);
  });

  it('keeps log lines in order and resumes after a given line', async () => {
    const { build: b } = await createBuild(t.store.db, build());
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(Number((await appendLog(t.store.db, { buildId: b.id, stage: 'fetch', level: 'info', line: `line ${i}` })).id));
    const all = await logsAfter(t.store.db, b.id);
    expect(all.map((l) => l.line)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    const rest = await logsAfter(t.store.db, b.id, ids[2]);
    expect(rest.map((l) => l.line)).toEqual(['line 3', 'line 4']);
  });

  it('checkpoints stages with their output', async () => {
    const { build: b } = await createBuild(t.store.db, build());
    await beginStage(t.store.db, b.id, 'fetch');
    await beginStage(t.store.db, b.id, 'fetch'); // a retried stage restarts its row rather than adding one
    await finishStage(t.store.db, b.id, 'fetch', 'done', 12.4, { commit: sha('a') });
    const stages = await listStages(t.store.db, b.id);
    expect(stages).toHaveLength(1);
    expect(stages[0]).toMatchObject({ stage: 'fetch', state: 'done', durationMs: 12 });
    expect(JSON.parse(stages[0]!.output!)).toEqual({ commit: sha('a') });
  });

  it('records audit decisions and numbers revisions monotonically', async () => {
    await recordDecision(t.store.db, {
      buildId: 'b-1',
      gate: 'image',
      policy: 'non-root',
      ruleIndex: 0,
      mode: 'enforce',
      outcome: 'deny',
      message: 'runs as root',
      subject: 'sha256:00',
    });
    expect(await listDecisions(t.store.db, 'b-1')).toMatchObject([{ gate: 'image', outcome: 'deny', ruleIndex: 0 }]);
    const r1 = await createRevision(t.store.db, { app: 'hello', target: 'local', digest: 'sha256:1', buildId: null, commit: null });
    const r2 = await createRevision(t.store.db, { app: 'hello', target: 'local', digest: 'sha256:2', buildId: null, commit: null });
    const other = await createRevision(t.store.db, { app: 'world', target: 'local', digest: 'sha256:3', buildId: null, commit: null });
    expect([r1.name, r2.name, other.name]).toEqual(['hello-1', 'hello-2', 'world-1']);
    expect((await listRevisions(t.store.db, 'hello')).map((r) => r.name)).toEqual(['hello-2', 'hello-1']);
  });

  it('hands out camelCase records with real booleans and numbers, never rows', async () => {
    const { build: made } = await createBuild(t.store.db, build({ fork: true, prNumber: 7, forge: 'github', repo: 'octo/hello', sourceBuild: 'b-0' }));
    const read = (await getBuild(t.store.db, made.id))!;
    expect(read).toEqual(made);
    expect(read).toMatchObject({ commit: sha('a'), cloneUrl: '/tmp/hello.git', fork: true, prNumber: 7, sourceBuild: 'b-0', state: 'queued', errorCode: null });
    expect(Object.keys(read).filter((k) => k.includes('_'))).toEqual([]);
    const { build: own } = await createBuild(t.store.db, build({ commit: sha('b') }));
    expect(own.fork).toBe(false);
    await replaceBuildSteps(t.store.db, made.id, [
      { index: 1, name: 'FROM base', digest: 'sha256:v1', cached: true, startedAt: null, completedAt: null, durationMs: 0, error: null },
      { index: 2, name: 'RUN make', digest: 'sha256:v2', cached: false, startedAt: null, completedAt: null, durationMs: 1499.6, error: null },
    ]);
    expect(await listBuildSteps(t.store.db, made.id)).toMatchObject([
      { buildId: made.id, index: 1, cached: true, durationMs: 0 },
      { buildId: made.id, index: 2, cached: false, durationMs: 1500 },
    ]);
    const line = await appendLog(t.store.db, { buildId: made.id, stage: null, level: 'info', line: 'x' });
    expect(typeof line.id).toBe('number');
  });
});
