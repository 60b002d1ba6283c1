import { afterEach, describe, expect, it } from 'vitest';
import { cli, contextDir, uniqueRepository } from './engine.js';
import { BASE_IMAGE, manifestStatus, pullImage } from './registry-image.js';

/** `slipway build <dir> --image REF` on embedded defaults (Docker Engine's BuildKit, DESIGN.md "CLI"). */
describe('slipway build', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanups.splice(0)) fn();
  });

  it('builds a directory with build args and a secret, pushes it, and prints the image by digest', async () => {
    const ctx = contextDir({
      'app/Containerfile': `FROM ${BASE_IMAGE}\nARG FLAVOUR\nRUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = from-env && echo "$FLAVOUR" > /flavour\n`,
    });
    cleanups.push(ctx.cleanup);
    const repository = uniqueRepository('cli');
    const r = await cli(
      ['build', '.', '--image', `${repository}:dev`, '-f', 'app/Containerfile', '--build-arg', 'FLAVOUR=vanilla', '--secret', 'id=tok,env=TOK'],
      ctx.dir,
      { TOK: 'from-env' },
    );
    expect(r.stderr).toContain(`pushed ${repository}:dev`);
    expect(r.code).toBe(0);
    const [image, digest] = r.stdout.trim().split('@');
    expect(image).toBe(repository);
    expect(await manifestStatus(repository, digest!)).toBe(200);
    expect((await pullImage(repository, digest!)).files.get('flavour')?.toString()).toBe('vanilla\n');
    // Live progress went to stderr.
    expect(r.stderr).toMatch(/#\d+ \[2\/2\] RUN --mount=type=secret,id=tok/);
  });

  it('exits 1 with the step and its output when the build fails, 2 on a usage error', async () => {
    const ctx = contextDir({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo nope >&2 && false\n` });
    cleanups.push(ctx.cleanup);
    const failed = await cli(['build', ctx.dir, '--image', uniqueRepository('clifail'), '-q'], ctx.dir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error: step \[2\/2\] RUN echo nope >&2 && false failed: .*exit code: 1\nnope \(SLW_BUILD_STEP_FAILED\)/);
    const usage = await cli(['build', ctx.dir, '--image', `${uniqueRepository('x')}@sha256:${'0'.repeat(64)}`], ctx.dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/name a repository \(and tag\), not a digest/);
    expect((await cli(['build', ctx.dir], ctx.dir)).code).toBe(2);
  });
});
