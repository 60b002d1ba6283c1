import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BuildkitClient, buildImage, type BuildImageOptions } from '../../src/buildkit/index.js';
import { isSlipwayError, type SlipwayError } from '../../src/core/errors.js';
import { contextDir, ENGINE, uniqueRepository, writeFiles } from './engine.js';
import { BASE_IMAGE, manifestStatus, pullImage } from './registry-image.js';

const FROM = `FROM ${BASE_IMAGE}`;

/** Real Docker Engine BuildKit and the real registry on 127.0.0.1:5000 ("Tests"). */
describe('buildImage against Docker Engine BuildKit', () => {
  const client = new BuildkitClient(ENGINE);
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanups.splice(0)) fn();
  });
  afterAll(() => client.close());

  function build(files: Record<string, string | Buffer>, options: Partial<BuildImageOptions> & { what: string }) {
    const ctx = contextDir(files);
    cleanups.push(ctx.cleanup);
    const repository = uniqueRepository(options.what);
    const lines: string[] = [];
    const run = (extra: Partial<BuildImageOptions> = {}) =>
      buildImage(client, { contextDir: ctx.dir, repository, tag: 'test', sharedKey: `test-${repository}`, onLine: (l) => lines.push(l), ...options, ...extra });
    return { dir: ctx.dir, repository, lines, run };
  }

  async function failure(p: Promise<unknown>): Promise<SlipwayError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isSlipwayError(err)) throw new Error(`expected a SlipwayError, got ${String(err)}`);
    return err;
  }

  it('builds a multi-stage Dockerfile, pushes it by digest, and builds a chosen --target', async () => {
    const b = build(
      {
        Dockerfile: [
          `${FROM} AS builder`,
          'RUN mkdir -p /out && echo compiled > /out/app',
          `${FROM} AS tester`,
          'RUN echo tester > /tester',
          FROM,
          'COPY --from=builder /out/app /app',
        ].join('\n'),
      },
      { what: 'multistage' },
    );
    const result = await b.run();
    expect(result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(result.reference).toBe(`${b.repository}@${result.digest}`);
    expect(await manifestStatus(b.repository, result.digest)).toBe(200);
    const image = await pullImage(b.repository, result.digest);
    expect(image.files.get('app')?.toString()).toBe('compiled\n');
    expect(image.files.has('tester')).toBe(false);
    expect(result.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['[builder 2/2] RUN mkdir -p /out && echo compiled > /out/app', '[stage-2 2/2] COPY --from=builder /out/app /app']),
    );
    expect(result.steps.every((s) => s.error === null)).toBe(true);

    const tester = await b.run({ target: 'tester', tag: 'tester' });
    const testerImage = await pullImage(b.repository, tester.digest);
    expect(testerImage.files.get('tester')?.toString()).toBe('tester\n');
    expect(testerImage.files.has('app')).toBe(false);
  });

  it('leaves out what .dockerignore excludes, honouring exceptions, and never sends it', async () => {
    const b = build(
      {
        Dockerfile: `${FROM}\nCOPY . /ctx\n`,
        '.dockerignore': '# local junk\nsecret.env\n*.log\n!keep.log\nnode_modules\n',
        'keep.txt': 'keep',
        'keep.log': 'kept log',
        'drop.log': 'dropped',
        'logs/nested.log': 'only top-level *.log is ignored',
        'secret.env': 'TOKEN=do-not-send',
        'node_modules/m/index.js': 'x'.repeat(50_000),
      },
      { what: 'dockerignore' },
    );
    const result = await b.run();
    const files = [...(await pullImage(b.repository, result.digest)).files.keys()].filter((p) => p.startsWith('ctx/')).sort();
    expect(files).toEqual(['ctx/.dockerignore', 'ctx/Dockerfile', 'ctx/keep.log', 'ctx/keep.txt', 'ctx/logs/nested.log']);
    // Excluded files were not even offered: the 50 kB under node_modules never crossed the session.
    expect(result.transfers.context!.bytes).toBeLessThan(2_000);
  });

  it('passes build args and labels', async () => {
    const b = build({ Dockerfile: `${FROM}\nARG GREETING=hi\nRUN echo "$GREETING" > /greeting\n` }, { what: 'args' });
    const result = await b.run({ buildArgs: { GREETING: 'hello from slipway' }, labels: { 'org.opencontainers.image.revision': 'abc123' } });
    const image = await pullImage(b.repository, result.digest);
    expect(image.files.get('greeting')?.toString()).toBe('hello from slipway\n');
    expect(image.config.config?.Labels).toMatchObject({ 'org.opencontainers.image.revision': 'abc123' });
  });

  it('serves a secret to RUN --mount=type=secret that no layer, config or log line contains', async () => {
    const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
    const b = build(
      { Dockerfile: `${FROM}\nRUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -d" " -f1 > /token.sha && test -s /run/secrets/token\n` },
      { what: 'secret' },
    );
    // No cache: BuildKit keys a RUN by its command, not by the secret's value, so an earlier run's layer would match.
    const result = await b.run({ secrets: new Map([['token', Buffer.from(secret)]]), noCache: true });
    const image = await pullImage(b.repository, result.digest);
    // Usable during RUN: the step saw exactly the secret's bytes.
    expect(image.files.get('token.sha')?.toString().trim()).toBe(createHash('sha256').update(secret).digest('hex'));
    // Absent everywhere else.
    for (const layer of image.layers) expect(layer.includes(secret)).toBe(false);
    expect(image.configBytes.includes(secret)).toBe(false);
    expect(b.lines.join('\n')).not.toContain(secret);
    expect(image.files.has('run/secrets/token')).toBe(false);
  });

  it('fails a RUN step with its name and its last 20 lines of output', async () => {
    const b = build({ Dockerfile: `${FROM}\nRUN for i in $(seq 1 30); do echo line$i; done; exit 3\n` }, { what: 'failrun' });
    const err = await failure(b.run());
    expect(err.code).toBe('SLW_BUILD_STEP_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('step [2/2] RUN for i in $(seq 1 30); do echo line$i; done; exit 3 failed');
    expect(err.message).toContain('exit code: 3');
    expect(err.details?.lines).toEqual(Array.from({ length: 20 }, (_, i) => `line${i + 11}`));
    expect(err.message).toContain('line30');
    expect(err.message).not.toMatch(/line10\b/);
  });

  it('fails on a Dockerfile syntax error, saying what is wrong', async () => {
    const b = build({ Dockerfile: `${FROM}\nRUNN echo typo\n` }, { what: 'syntax' });
    const err = await failure(b.run());
    expect(err.code).toBe('SLW_BUILD_DOCKERFILE');
    expect(err.message).toMatch(/line 2: unknown instruction: RUNN/);
  });

  it('fails a COPY of a missing source with the step name and a hint', async () => {
    const b = build({ Dockerfile: `${FROM}\nCOPY missing.txt /\n`, '.dockerignore': 'missing.txt\n', 'missing.txt': 'ignored' }, { what: 'missingcopy' });
    const err = await failure(b.run());
    expect(err.code).toBe('SLW_BUILD_STEP_FAILED');
    expect(err.message).toMatch(/step \[2\/2\] COPY missing.txt \/ failed: .*not found.*\.dockerignore/);
  });

  it('cancels a running build: the Solve ends and the RUN process stops', async () => {
    const marker = `${30 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1000)}`;
    const b = build({ Dockerfile: `${FROM}\nRUN sleep ${marker}\n` }, { what: 'cancel' });
    const controller = new AbortController();
    const running = b.run({ signal: controller.signal, noCache: true });
    const sleeping = () => {
      try {
        return execFileSync('pgrep', ['-f', `sleep ${marker}`], { encoding: 'utf8' }).trim() !== '';
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 20_000;
    while (!sleeping()) {
      if (Date.now() > deadline) throw new Error(`RUN sleep ${marker} never started; log:\n${b.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const abortedAt = Date.now();
    controller.abort();
    const err = await failure(running);
    expect(err.code).toBe('SLW_BUILD_CANCELED');
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    while (sleeping()) {
      if (Date.now() - abortedAt > 10_000) throw new Error('the RUN process still runs 10 s after the cancel');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('rebuilds an unchanged context without transferring file data, and a changed one with only that file', async () => {
    const files: Record<string, string> = { Dockerfile: `${FROM}\nCOPY . /src\nRUN ls /src | wc -l\n` };
    for (let i = 0; i < 40; i++) files[`src/file-${i}.txt`] = `content ${i}\n`.repeat(100);
    const b = build(files, { what: 'rebuild' });
    const first = await b.run();
    expect(first.transfers.context!.requested).toBeGreaterThanOrEqual(41);
    expect(first.transfers.context!.bytes).toBeGreaterThan(40_000);

    const second = await b.run();
    expect(second.digest).toBe(first.digest);
    // What the session served: every path offered as a STAT, not one file asked for.
    expect(second.transfers.context).toMatchObject({ requested: 0, bytes: 0 });
    expect(second.transfers.dockerfile).toMatchObject({ requested: 0, bytes: 0 });
    expect(second.transfers.context!.offered).toBeGreaterThan(40);
    expect(second.steps.filter((s) => s.name.includes('COPY . /src')).every((s) => s.cached)).toBe(true);

    writeFiles(b.dir, { 'src/file-7.txt': 'changed\n' });
    const third = await b.run();
    expect(third.transfers.context).toMatchObject({ requested: 1, bytes: 8 });
    expect(third.digest).not.toBe(first.digest);
  });

  it('says which address it tried when BuildKit is unreachable, as a retryable error', async () => {
    const ctx = contextDir({ Dockerfile: `${FROM}\n` });
    cleanups.push(ctx.cleanup);
    for (const address of ['docker:///tmp/slipway-no-such-engine.sock', 'unix:///tmp/slipway-no-such-buildkitd.sock', 'tcp://127.0.0.1:9']) {
      const missing = new BuildkitClient(address);
      try {
        const err = await failure(buildImage(missing, { contextDir: ctx.dir, repository: uniqueRepository('unreachable'), tag: 't', sharedKey: 'x' }));
        expect(err.code).toBe('SLW_BUILDKIT_UNREACHABLE');
        expect(err.retryable).toBe(true);
        expect(err.message).toContain(address);
      } finally {
        missing.close();
      }
    }
  });
});
