import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildkitClient, buildImage, resolvedImage } from '../../src/buildkit/index.js';
import { isSlipwayError, SlipwayError } from '../../src/core/errors.js';
import { approves, formatNormalized, normalizeImageRef, parseDockerfile, type NormalizedRef } from '../../src/policy/index.js';
import { contextDir, ENGINE, uniqueRepository } from '../buildkit/engine.js';
import { BASE_IMAGE, REGISTRY, REGISTRY_HOST } from '../buildkit/registry-image.js';

const norm = (ref: string) => formatNormalized(normalizeImageRef(ref)!);

/**
 * The build gate's reading of a Dockerfile against what Docker Engine's BuildKit really resolves for
 * it (from its progress), on files where readers go wrong; and the resolution check stopping a build
 * that resolves an image the gate did not approve. Real BuildKit, real registry on 127.0.0.1:5000.
 */
describe('images BuildKit resolves, against what the build gate read', () => {
  const client = new BuildkitClient(ENGINE);
  let other = '';
  beforeAll(async () => {
    // A second image in the local registry, under another repository name.
    const ctx = contextDir({ Dockerfile: `FROM ${BASE_IMAGE}\nLABEL dev.slipway.test=other\n` });
    const repository = uniqueRepository('other');
    await buildImage(client, { contextDir: ctx.dir, repository, tag: 'v1', sharedKey: repository });
    ctx.cleanup();
    other = `${repository}:v1`;
  }, 120_000);
  afterAll(() => client.close());

  /** Builds the file (not pushed) and returns the references BuildKit resolved, normalized. */
  async function resolvedBy(dockerfile: string | Buffer): Promise<string[]> {
    const ctx = contextDir({ Dockerfile: dockerfile });
    const repository = uniqueRepository('resolve');
    const seen = new Set<string>();
    try {
      await buildImage(client, { contextDir: ctx.dir, repository, tag: 't', sharedKey: repository, push: false, onImage: (ref) => seen.add(norm(ref)) });
    } finally {
      ctx.cleanup();
    }
    return [...seen].sort();
  }
  const readBy = (dockerfile: string | Buffer) => [...new Set(parseDockerfile(dockerfile.toString('utf8')).images.map((i) => norm(i.ref)))].sort();

  const files: [string, () => string | Buffer][] = [
    // The global IMG is the other image; the stage's ARG IMG must not change the second FROM.
    [
      'a global ARG vs a stage ARG of the same name in FROM',
      () => `ARG IMG=${other}\nFROM ${BASE_IMAGE} AS one\nARG IMG=${BASE_IMAGE}\nRUN true\nFROM \${IMG}\nCOPY --from=one /bin/true /t\n`,
    ],
    // After a blank line `# escape=` is a comment: the backtick does not continue RUN, so the second FROM is one.
    ['# escape= after a blank line', () => `\n# escape=\`\nFROM ${BASE_IMAGE}\nRUN true #\`\nFROM ${other}\nCOPY --from=0 /bin/true /t\n`],
    // A BOM is dropped, so the escape directive holds: the backslash is literal and does not continue RUN.
    [
      'a BOM before # escape=',
      () =>
        Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          Buffer.from(`# escape=\`\nFROM ${BASE_IMAGE}\nRUN echo \\\nFROM ${other}\nCOPY --from=0 /bin/true /t\n`),
        ]),
    ],
    [
      'COPY --from=<image> and RUN --mount=from=<image>',
      () => `FROM ${BASE_IMAGE}\nCOPY --from=${other} /bin/true /t\nRUN --mount=type=bind,from=${other},target=/m true\n`,
    ],
  ];

  it.each(files)(
    '%s: the gate lists exactly what BuildKit resolved',
    async (_name, file) => {
      const resolved = await resolvedBy(file());
      expect(resolved).toEqual([norm(BASE_IMAGE), norm(other)].sort());
      expect(readBy(file())).toEqual(resolved);
    },
    120_000,
  );

  it('stops a build that resolves an image the gate did not approve, before anything is pushed', async () => {
    const ctx = contextDir({ Dockerfile: `FROM ${BASE_IMAGE}\nCOPY --from=${other} /bin/true /t\n` });
    const repository = uniqueRepository('refused');
    const approved: NormalizedRef[] = [normalizeImageRef(BASE_IMAGE)!];
    const err = await buildImage(client, {
      contextDir: ctx.dir,
      repository,
      tag: 't',
      sharedKey: repository,
      onImage: (ref) => {
        if (!approves(approved, normalizeImageRef(ref)!)) throw new SlipwayError('SLW_POLICY_REJECTED', `not approved: ${ref}`);
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    ctx.cleanup();
    expect(isSlipwayError(err) && err.code).toBe('SLW_POLICY_REJECTED');
    expect((err as Error).message).toBe(`not approved: ${other}`);
    const tags = await fetch(`${REGISTRY}/v2/${repository.replace(`${REGISTRY_HOST}/`, '')}/tags/list`);
    expect(tags.status).toBe(404);
  }, 120_000);

  it('names the references of the vertices BuildKit reports', () => {
    expect(resolvedImage('[internal] load metadata for 127.0.0.1:5000/slipway/busybox:latest')).toBe('127.0.0.1:5000/slipway/busybox:latest');
    expect(resolvedImage('[linux/arm64 internal] load metadata for docker.io/library/alpine:3')).toBe('docker.io/library/alpine:3');
    expect(resolvedImage('[stage-0 1/2] FROM 127.0.0.1:5000/x:1@sha256:' + 'a'.repeat(64))).toBe('127.0.0.1:5000/x:1@sha256:' + 'a'.repeat(64));
    expect(resolvedImage('FROM 127.0.0.1:5000/x')).toBe('127.0.0.1:5000/x');
    expect(resolvedImage('resolve image config for 127.0.0.1:5000/front:1')).toBe('127.0.0.1:5000/front:1');
    expect(resolvedImage('docker-image://127.0.0.1:5000/front:1')).toBe('127.0.0.1:5000/front:1');
    expect(resolvedImage('[stage-0 2/2] RUN echo FROM evil')).toBeUndefined();
    expect(resolvedImage('[internal] load build definition from Dockerfile')).toBeUndefined();
  });
});
