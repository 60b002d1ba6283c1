import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { imageFacts } from '../../src/pipeline/image-facts.js';
import { evaluateGate, loadPolicies, parseDockerfile, type PolicyInput } from '../../src/policy/index.js';
import { parseImageRef, RegistryClient } from '../../src/registry/index.js';
import { PROVENANCE, pushSyntheticImage, type SyntheticImage } from '../helpers/images.js';
import { SHARED_REGISTRY } from '../helpers/registry.js';
import { pushInput } from '../helpers/policy-input.js';

const set = loadPolicies('policies', { required: true });
const client = new RegistryClient({ host: SHARED_REGISTRY });
const base = pushInput;
const judge = async (gate: 'image' | 'promote', ref: string, verified: string[] = []) => {
  const input = { ...base(), image: await imageFacts(client, parseImageRef(ref)), signatures: { verified } };
  return evaluateGate(set, gate, { app: 'hello', branch: 'main', target: 'local' }, input);
};
const failed = (r: { decisions: { outcome: string; policy: string; ruleIndex: number }[] }) =>
  r.decisions.filter((d) => d.outcome !== 'allow').map((d) => `${d.policy}#${d.ruleIndex}:${d.outcome}`);

describe('default policies on real images in the registry', () => {
  let good: SyntheticImage;
  let root: SyntheticImage;
  beforeAll(async () => {
    [good, root] = await Promise.all([pushSyntheticImage({ User: 'app', Labels: PROVENANCE }), pushSyntheticImage({ Labels: PROVENANCE })]);
  });

  it('a non-root image with provenance labels passes the image gate', async () => {
    const result = await judge('image', good.ref);
    expect(result.rejected).toBe(false);
    expect(failed(result)).toEqual([]);
    expect(result.decisions.length).toBe(5);
  });

  it.each([
    ['runs as root (no USER)', {}, ['non-root#0:deny']],
    ['runs as USER 0:0', { User: '0:0' }, ['non-root#0:deny']],
    ['bakes a secret into ENV', { User: 'app', Env: ['PATH=/bin', 'GITHUB_TOKEN=ghp_x'] }, ['image-hygiene#1:deny']],
    ['lacks provenance labels', { User: 'app', Labels: {} }, ['image-hygiene#2:deny']],
  ])('an image that %s is rejected by the rule that says why', async (_n, config, expected) => {
    const img = await pushSyntheticImage({ Labels: PROVENANCE, ...config });
    const result = await judge('image', img.ref);
    expect(result.rejected).toBe(true);
    expect(failed(result)).toEqual(expected);
  });

  it('the promote gate refuses a tag reference, an unsigned digest and an image without the enforcer', async () => {
    const byTag = await judge('promote', good.tagRef);
    expect(failed(byTag)).toEqual(['promote-requirements#0:deny', 'promote-requirements#1:deny', 'promote-requirements#2:deny']);
    expect(byTag.decisions[0]!.message).toMatch(/addressed by digest/);
    const signedWithEnforcer = await pushSyntheticImage({ User: 'app', Labels: { ...PROVENANCE, 'dev.slipway.enforcer.version': '0.1.0' } });
    expect((await judge('promote', signedWithEnforcer.ref, ['cosign.pub'])).rejected).toBe(false);
    expect(failed(await judge('promote', signedWithEnforcer.ref, []))).toEqual(['promote-requirements#1:deny']);
  });

  it('the build gate refuses base images from other registries and warns about unpinned ones', () => {
    const input = (from: string): PolicyInput => ({ ...base(), dockerfile: parseDockerfile(`FROM ${from}\n`) });
    const ctx = { app: 'hello', branch: 'main', target: 'local' };
    expect(failed(evaluateGate(set, 'build', ctx, input('node:20')))).toEqual(['allowed-base-registries#0:deny']);
    const latest = evaluateGate(set, 'build', ctx, input('127.0.0.1:5000/slipway/busybox:latest'));
    expect(latest.rejected).toBe(false);
    expect(failed(latest)).toEqual(['pinned-base-images#0:warn']);
    expect(failed(evaluateGate(set, 'build', ctx, input(`127.0.0.1:5000/slipway/busybox@sha256:${'c'.repeat(64)}`)))).toEqual([]);
  });

  it('the source gate keeps fork pull requests away from production targets only', () => {
    expect(failed(evaluateGate(set, 'source', { app: 'hello', branch: 'main', target: 'prod' }, base('prod', true)))).toEqual([
      'forks-stay-in-previews#0:deny',
    ]);
    expect(evaluateGate(set, 'source', { app: 'hello', branch: 'main', target: 'local' }, base('local', true)).decisions).toEqual([]);
    expect(evaluateGate(set, 'source', { app: 'hello', branch: 'main', target: 'prod' }, base('prod', false)).rejected).toBe(false);
  });

  describe('slipway policy', () => {
    const run = async (...args: string[]) => {
      const r = await runCli(args);
      return { code: r.code, out: r.stdout, err: r.stderr };
    };
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'slipway-policy-cli-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('`policy test image@digest` prints the decisions and exits 1 when rejected', async () => {
      const bad = await run('policy', 'test', root.ref);
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/^GATE\s+POLICY\s+RULE\s+MODE\s+RESULT\s+MESSAGE/);
      expect(bad.out).toMatch(/image\s+non-root\s+0\s+enforce\s+FAIL\s+the image runs as root; add a USER instruction/);
      expect(bad.out).toMatch(/rejected: 1 enforce rule failed/);
      const ok = await run('policy', 'test', good.ref);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/passed\n$/);
      const promote = await run('policy', 'test', good.tagRef, '--gate', 'promote', '--json');
      expect(promote.code).toBe(1);
      expect(JSON.parse(promote.out).decisions[0]).toMatchObject({ policy: 'promote-requirements', outcome: 'deny' });
    });

    it('`policy test dir` judges the Dockerfile at the source and build gates', async () => {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM 127.0.0.1:5000/slipway/busybox:latest\nUSER 1000\n');
      const r = await run('policy', 'test', dir);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/build\s+pinned-base-images\s+0\s+audit\s+warn\s+an image the build uses is not pinned/);
      expect(r.out).toMatch(/passed with 1 warning/);
    });

    it('`policy lint` lists the policies, or every problem with exit 1', async () => {
      const ok = await run('policy', 'lint');
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/non-root\s+image\s+enforce\s+2\s+policies\/image\.yaml#1/);
      writeFileSync(
        join(dir, 'bad.yaml'),
        'apiVersion: slipway.dev/v1\nkind: ImagePolicy\nmetadata: { name: x }\nspec: { gate: image, rules: [{ expression: "image.", message: m }] }\n',
      );
      const bad = await run('policy', 'lint', '--dir', dir);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/bad\.yaml document 1 \(policy x\) rule 0: CEL syntax error at expression:1:\d+.*\(SLW_POLICY_INVALID\)/s);
    });
  });
});
