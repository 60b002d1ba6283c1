import { describe, expect, it } from 'vitest';
import { nextTraffic } from '../../src/cli/commands/traffic.js';
import { isSlipwayError } from '../../src/core/errors.js';
import { WeightedChoice } from '../../src/targets/local/routes.js';
import { isOlder } from '../../src/targets/promote.js';
import { collectable, moveAllTraffic, resolveTraffic, validateTraffic, withTag, withoutTag } from '../../src/targets/traffic.js';
import type { Revision, RevisionState, TrafficTarget } from '../../src/targets/types.js';

/** The traffic rules every target shares (Knative's TrafficTarget validation), without containers. */

const rev = (n: number, state: RevisionState = 'ready'): Revision => ({
  name: `app-${n}`,
  app: 'app',
  target: 'local',
  n,
  image: `127.0.0.1:5000/x@sha256:${'a'.repeat(64)}`,
  digest: `sha256:${'a'.repeat(64)}`,
  build: undefined,
  state,
  message: undefined,
  createdAt: '2026-01-01T00:00:00.000Z',
  promotedAt: undefined,
  spec: { env: {}, resources: {}, annotations: {} },
});
const revisions = [rev(4, 'created'), rev(3), rev(2, 'failed'), rev(1), rev(0, 'deleted')];

describe('validateTraffic', () => {
  it.each<[string, TrafficTarget[]]>([
    ['one revision at 100%', [{ revision: 'app-1', percent: 100 }]],
    [
      '@latest with a 0% tag',
      [
        { latestRevision: true, percent: 100 },
        { revision: 'app-1', percent: 0, tag: 'old' },
      ],
    ],
    [
      'a split with tags',
      [
        { revision: 'app-1', percent: 80, tag: 'stable' },
        { revision: 'app-3', percent: 20 },
      ],
    ],
  ])('accepts %s', (_what, traffic) => {
    expect(validateTraffic('app', traffic, revisions)).toHaveLength(traffic.length);
  });

  it.each<[string, TrafficTarget[], RegExp]>([
    ['an empty block', [], /at least one/],
    ['percents not summing to 100', [{ revision: 'app-1', percent: 60 }], /sum to 60/],
    ['both revision and latestRevision', [{ revision: 'app-1', latestRevision: true, percent: 100 }], /exactly one/],
    ['neither', [{ percent: 100 }], /exactly one/],
    [
      'a fraction',
      [
        { revision: 'app-1', percent: 50.5 },
        { revision: 'app-3', percent: 49.5 },
      ],
      /whole number/,
    ],
    ['an unknown revision', [{ revision: 'app-9', percent: 100 }], /app-9 does not exist/],
    ['a deleted revision', [{ revision: 'app-0', percent: 100 }], /app-0 does not exist/],
    ['a failed revision', [{ revision: 'app-2', percent: 100 }], /app-2 is failed, not ready/],
    ['a revision still being created', [{ revision: 'app-4', percent: 100 }], /app-4 is created/],
    ['a tag that is no DNS label', [{ revision: 'app-1', percent: 100, tag: 'PR_1' }], /DNS label/],
    [
      'a tag used twice',
      [
        { revision: 'app-1', percent: 100, tag: 'x' },
        { revision: 'app-3', percent: 0, tag: 'x' },
      ],
      /used twice/,
    ],
  ])('rejects %s', (_what, traffic, message) => {
    let err: unknown;
    try {
      validateTraffic('app', traffic, revisions);
    } catch (e) {
      err = e;
    }
    expect(isSlipwayError(err, 'SLW_TRAFFIC_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('resolves @latest to the newest ready revision and gives tags URLs', () => {
    expect(resolveTraffic('app', 'example.test', [{ latestRevision: true, percent: 100, tag: 'head' }], revisions)).toEqual([
      { latestRevision: true, percent: 100, tag: 'head', revisionName: 'app-3', url: 'http://head-app.example.test' },
    ]);
  });
});

describe('traffic edits', () => {
  const block: TrafficTarget[] = [
    { revision: 'app-1', percent: 70, tag: 'stable' },
    { revision: 'app-3', percent: 30 },
    { revision: 'app-3', percent: 0, tag: 'pr-4' },
  ];
  it('a production promotion moves all traffic and keeps tags at 0%', () => {
    expect(moveAllTraffic(block, 'app-5')).toEqual([
      { revision: 'app-5', percent: 100 },
      { revision: 'app-1', percent: 0, tag: 'stable' },
      { revision: 'app-3', percent: 0, tag: 'pr-4' },
    ]);
  });
  it('removing a tag drops a 0% entry but keeps the share of one that takes traffic', () => {
    expect(withoutTag(block, 'pr-4')).toEqual(block.slice(0, 2));
    expect(withoutTag(block, 'stable')[0]).toEqual({ revision: 'app-1', percent: 70 });
  });
  it('a preview tag moves to its new revision at 0%', () => {
    expect(withTag(block, 'pr-4', 'app-6').slice(-1)).toEqual([{ revision: 'app-6', percent: 0, tag: 'pr-4' }]);
  });
});

describe('nextTraffic (slipway traffic, as kn service update)', () => {
  const current = resolveTraffic(
    'app',
    'localhost',
    [
      { revision: 'app-1', percent: 100 },
      { revision: 'app-1', percent: 0, tag: 'old' },
    ],
    revisions,
  );
  it.each<[string, { traffic?: string[]; tag?: string[]; untag?: string[] }, TrafficTarget[]]>([
    [
      'a split replaces the split and keeps tags',
      { traffic: ['app-1=80', '@latest=20'] },
      [
        { revision: 'app-1', percent: 80 },
        { latestRevision: true, percent: 20 },
        { revision: 'app-1', percent: 0, tag: 'old' },
      ],
    ],
    [
      'a tag name stands for its revision',
      { traffic: ['old=100'] },
      [
        { revision: 'app-1', percent: 100 },
        { revision: 'app-1', percent: 0, tag: 'old' },
      ],
    ],
    [
      '--tag lands on the entry that takes traffic',
      { traffic: ['app-3=100'], tag: ['app-3=current'] },
      [
        { revision: 'app-3', percent: 100, tag: 'current' },
        { revision: 'app-1', percent: 0, tag: 'old' },
      ],
    ],
    [
      '--tag alone adds a 0% entry and keeps the split',
      { tag: ['@latest=head'] },
      [
        { revision: 'app-1', percent: 100 },
        { revision: 'app-1', percent: 0, tag: 'old' },
        { latestRevision: true, percent: 0, tag: 'head' },
      ],
    ],
    ['--untag drops a tag', { untag: ['old'] }, [{ revision: 'app-1', percent: 100 }]],
  ])('%s', (_what, opts, expected) => {
    expect(nextTraffic(current, { traffic: opts.traffic ?? [], tag: opts.tag ?? [], untag: opts.untag ?? [] })).toEqual(expected);
  });
  it.each([['app-1'], ['app-1=x'], ['=5'], ['app-1=101']])('refuses --traffic %s as a usage error', (value) => {
    expect(() => nextTraffic(current, { traffic: [value], tag: [], untag: [] })).toThrow(/--traffic/);
  });
});

describe('routing and collection', () => {
  it('smooth weighted round-robin splits exactly and interleaves', () => {
    const choice = new WeightedChoice([
      { revision: 'a', weight: 80 },
      { revision: 'b', weight: 20 },
    ]);
    const picks = Array.from({ length: 1000 }, () => choice.pick());
    expect(picks.filter((p) => p === 'a')).toHaveLength(800);
    expect(picks.slice(0, 5).filter((p) => p === 'b')).toHaveLength(1);
    expect(new WeightedChoice([]).pick()).toBeUndefined();
  });

  it('collects unreferenced revisions beyond the newest N, never the latest ready one or one being created', () => {
    const many = [rev(9, 'created'), rev(8), rev(7), rev(6, 'failed'), rev(5), rev(4), rev(3)];
    const traffic = resolveTraffic('app', 'localhost', [{ revision: 'app-4', percent: 100 }], many);
    expect(collectable(many, traffic, 1).map((r) => r.name)).toEqual(['app-6', 'app-5', 'app-3']);
    expect(collectable(many, traffic, 10)).toEqual([]);
  });

  it('orders builds by creation time, then id', () => {
    const at = (s: number, id: string) => ({ id, commit: 'c', createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString() });
    expect(isOlder(at(1, 'b-2'), at(2, 'b-1'))).toBe(true);
    expect(isOlder(at(2, 'b-1'), at(1, 'b-2'))).toBe(false);
    expect(isOlder(at(1, 'b-1'), at(1, 'b-2'))).toBe(true);
    expect(isOlder(at(1, 'b-1'), at(1, 'b-1'))).toBe(false);
  });
});
