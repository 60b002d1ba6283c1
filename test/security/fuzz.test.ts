import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRefName, isShortRefName } from '../../src/core/git-names.js';
import { listBuilds } from '../../src/store/index.js';
import { makeTar } from '../deploy/helpers.js';
import { API_AUTH, API_TOKEN, GITLAB_TOKEN, startTestRuntime, WEBHOOK_SECRET, type TestRuntime } from '../helpers/runtime.js';
import { githubPullRequest, githubPush, gitlabRequest, signedGithub } from '../helpers/webhooks.js';

/**
 * A bounded fuzzer over the two ways strangers hand Slipway structured input: webhook payloads and
 * uploaded build contexts. Fixed seed (SLIPWAY_FUZZ_SEED replays another), fixed count, so CI runs the
 * same cases every time and a failure names the case to replay. The invariants are what a user relies
 * on: no input makes the server answer 5xx, and whatever is accepted holds only validated values.
 */
const SEED = Number(process.env.SLIPWAY_FUZZ_SEED ?? 20261204);
const WEBHOOK_CASES = Number(process.env.SLIPWAY_FUZZ_WEBHOOKS ?? 400);
const UPLOAD_CASES = Number(process.env.SLIPWAY_FUZZ_UPLOADS ?? 80);

/** mulberry32: small, fast and the same everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '',
  ' ',
  '-',
  '--',
  '--upload-pack=touch /tmp/slipway-fuzz;git-upload-pack',
  '-c protocol.ext.allow=always',
  'ext::sh -c id',
  '$(id)',
  '`id`',
  ';id',
  '|id',
  '&& id',
  '\n--help',
  '\u0000',
  '\u202e',
  'ｍａｉｎ',
  '😀',
  '../..',
  '/etc/passwd',
  'file:///etc',
  'http://127.0.0.1:6379/',
  'refs/heads/main',
  'refs/heads/../x',
  'refs/heads/a..b',
  'refs/heads/x.lock',
  'refs/tags/v1',
  'main',
  'a'.repeat(40),
  'A'.repeat(40),
  'a'.repeat(64),
  'g'.repeat(40),
  '0'.repeat(40),
  'x'.repeat(5000),
  '%2e%2e',
  'octo/hello',
  'octo/hello/../x',
  '<script>alert(1)</script>',
  '{"a":1}',
  'null',
  '\\',
  "'",
  '"',
];

describe('fuzzing webhooks and uploads (fixed seed, bounded count; real server, Redis, SQLite)', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({
      worker: false,
      config: {
        api: { tokens: [{ name: 'tests', sha256: createHash('sha256').update(API_TOKEN).digest('hex') }], uploadLimit: '1MiB', uploadUnpackedLimit: '4MiB' },
        apps: [
          { name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' }, tags: { 'v*': 'local' }, previews: { target: 'local' } },
          { name: 'lab', repo: 'gitlab:group/lab', branches: { main: 'local' }, previews: { target: 'local' } },
        ],
      },
    });
  });
  afterAll(async () => rt?.stop());

  it(`survives ${WEBHOOK_CASES} mutated deliveries (seed ${SEED}) and stores only validated builds`, async () => {
    const random = rng(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const values = (): unknown => {
      const r = random();
      if (r < 0.7) return pick(STRINGS);
      if (r < 0.8) return Math.floor(random() * 2 ** 40) * (random() < 0.5 ? -1 : 1);
      if (r < 0.85) return null;
      if (r < 0.9) return [pick(STRINGS)];
      if (r < 0.95) return { nested: pick(STRINGS) };
      return random() < 0.5;
    };
    /** Sets a random existing leaf (or a new key) somewhere in the payload. */
    const mutate = (node: Record<string, unknown>, depth = 0): void => {
      const keys = Object.keys(node);
      const key = keys.length && random() < 0.9 ? pick(keys) : pick(STRINGS);
      const child = node[key];
      if (child && typeof child === 'object' && !Array.isArray(child) && depth < 4 && random() < 0.6) mutate(child as Record<string, unknown>, depth + 1);
      else node[key] = values();
    };
    for (let i = 0; i < WEBHOOK_CASES; i += 1) {
      const kind = pick(['push', 'pull_request', 'gitlab'] as const);
      const payload: Record<string, unknown> =
        kind === 'push'
          ? githubPush({ repo: 'octo/hello', commit: 'a'.repeat(40) })
          : kind === 'pull_request'
            ? githubPullRequest({ repo: 'octo/hello', action: 'opened', number: 3, headSha: 'b'.repeat(40) })
            : gitlabPush();
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m += 1) mutate(payload);
      const req = kind === 'gitlab' ? gitlabRequest('Push Hook', payload, GITLAB_TOKEN) : signedGithub(kind, payload, WEBHOOK_SECRET);
      const res = await rt.server!.inject({
        method: 'POST',
        url: kind === 'gitlab' ? '/webhooks/gitlab' : '/webhooks/github',
        headers: req.headers,
        payload: req.body,
      });
      expect([202, 400], `case ${i} (seed ${SEED}): ${res.statusCode} ${res.body.slice(0, 300)}`).toContain(res.statusCode);
    }
    for (const b of await listBuilds(rt.store.db, { limit: 500 })) {
      expect(b.commit).toMatch(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
      expect(b.cloneUrl).toMatch(/^https:\/\/(github|gitlab)\.com\/[A-Za-z0-9_][A-Za-z0-9_./-]*\.git$/);
      expect(b.cloneUrl).not.toContain('..');
      // Branch and tag builds keep the full ref, previews the head branch: both are valid git names.
      expect(isRefName(b.ref) || isShortRefName(b.ref), b.ref).toBe(true);
    }
  }, 120_000);

  it(`survives ${UPLOAD_CASES} hostile build contexts (seed ${SEED})`, async () => {
    const random = rng(SEED + 1);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const NAMES = [
      'Dockerfile',
      'a',
      'a/b',
      '../x',
      '/abs',
      'a/../../x',
      './b',
      'ｄｏｃｋｅｒ',
      'x'.repeat(200),
      'a//b',
      '.',
      'dir/',
      '..',
      'a\\..\\b',
      'link/through',
    ];
    const TYPES = ['file', 'file', 'file', 'directory', 'symlink', 'link', 'fifo', 'character-device'] as const;
    for (let i = 0; i < UPLOAD_CASES; i += 1) {
      const entries = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
        const type = pick(TYPES);
        return {
          name: pick(NAMES),
          type,
          ...(type === 'symlink' || type === 'link' ? { linkname: pick(NAMES) } : {}),
          content: type === 'file' ? pick(STRINGS) : '',
        };
      });
      let body: Buffer;
      try {
        body = await makeTar(entries);
      } catch {
        continue; // tar-stream itself refuses some headers: nothing to send
      }
      if (random() < 0.15) body = body.subarray(0, Math.floor(random() * body.length)); // truncated
      const res = await rt.server!.inject({
        method: 'POST',
        url: '/api/v1/apps/hello/builds',
        headers: { 'content-type': 'application/gzip', ...API_AUTH },
        payload: body,
      });
      expect([202, 400, 413], `upload ${i} (seed ${SEED}) ${JSON.stringify(entries).slice(0, 300)}: ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(
        res.statusCode,
      );
    }
    expect((await rt.server!.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 120_000);
});

function gitlabPush(): Record<string, unknown> {
  return {
    object_kind: 'push',
    ref: 'refs/heads/main',
    before: '1'.repeat(40),
    after: '2'.repeat(40),
    checkout_sha: '2'.repeat(40),
    user_username: 'jsmith',
    project: { path_with_namespace: 'group/lab', git_http_url: 'https://gitlab.com/group/lab.git', web_url: 'https://gitlab.com/group/lab' },
  };
}
