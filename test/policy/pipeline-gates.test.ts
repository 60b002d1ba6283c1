import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { imageFacts } from '../../src/pipeline/image-facts.js';
import { parseImageRef, RegistryClient } from '../../src/registry/index.js';
import { generateKeyPair, loadPublicKey, verifyImage } from '../../src/signing/index.js';
import { getBuild, logsAfter } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { API_TOKEN, startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime, FINAL_STATE, servingApp } from '../helpers/runtime.js';
import { githubPush, signedGithub } from '../helpers/webhooks.js';

const BASE = process.env.SLIPWAY_TEST_BASE_IMAGE ?? '127.0.0.1:5000/slipway/busybox:latest';

/**
 * Policy gates through the pipeline: a build whose image runs as root is rejected with the rule's message in
 * `slipway logs` and the API; with the policy in audit mode the same build passes with a warning.
 * Real pipeline: git, the build gate, BuildKit in Docker Engine, the registry, the image gate.
 */
describe('policy gates in the pipeline (real BuildKit, registry, Redis, SQLite, git)', () => {
  let repo: TestRepo;
  let auditDir: string;
  const runtimes: TestRuntime[] = [];

  beforeAll(() => {
    repo = new TestRepo();
    auditDir = mkdtempSync(join(tmpdir(), 'slipway-audit-policies-'));
    cpSync(resolve('policies'), auditDir, { recursive: true });
    const image = join(auditDir, 'image.yaml');
    writeFileSync(
      image,
      readFileSync(image, 'utf8').replace(
        'name: non-root\n  description: Containers do not run as root.\nspec:\n  gate: image\n  mode: enforce',
        'name: non-root\n  description: Containers do not run as root.\nspec:\n  gate: image\n  mode: audit',
      ),
    );
    expect(readFileSync(image, 'utf8')).toContain('mode: audit');
  });
  afterAll(async () => {
    for (const rt of runtimes) await rt.stop();
    repo?.cleanup();
    rmSync(auditDir, { recursive: true, force: true });
  });

  const start = async (policies: string) => {
    const rt = await startTestRuntime({
      config: { policies, apps: [{ name: 'rooted', repo: 'github:octo/rooted', cloneUrl: repo.bare, branches: { main: 'local' } }] },
    });
    runtimes.push(rt);
    return rt;
  };
  const pushAndWait = async (rt: TestRuntime, commit: string) => {
    const req = signedGithub('push', githubPush({ repo: 'octo/rooted', commit }), WEBHOOK_SECRET);
    const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
    const id = res.json().builds[0].id as string;
    return waitFor(
      async () => {
        const b = await getBuild(rt.store.db, id);
        return b && [FINAL_STATE, 'failed', 'rejected', 'canceled'].includes(b.state) ? b : undefined;
      },
      'the build to end',
      60_000,
    );
  };
  const cli = async (...args: string[]) => {
    const r = await runCli(args, { env: { SLIPWAY_TOKEN: API_TOKEN } });
    return { code: r.code, out: r.stdout };
  };

  it('rejects an image that runs as root, with the rule and its message in the API and `slipway logs`', async () => {
    const rt = await start(resolve('policies'));
    const sha = repo.commit({ Dockerfile: `FROM ${BASE}\nCMD ["true"]\n` });
    const build = await pushAndWait(rt, sha);
    expect(build).toMatchObject({ state: 'rejected', errorCode: 'SLW_POLICY_REJECTED' });
    expect(build.errorMessage).toBe(
      'rejected at the image gate by 1 rule: non-root rule 0: the image runs as root; add a USER instruction with a non-root user',
    );
    expect(build.digest).toMatch(/^sha256:/); // it was built and pushed; it is the gate that said no

    const api = (await rt.server!.inject({ method: 'GET', url: `/api/v1/builds/${build.id}`, headers: { authorization: `Bearer ${API_TOKEN}` } })).json();
    expect(api.state).toBe('rejected');
    expect(api.decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ gate: 'image', policy: 'non-root', rule: 0, mode: 'enforce', outcome: 'deny', subject: build.digest }),
        expect.objectContaining({ gate: 'build', policy: 'pinned-base-images', outcome: 'warn' }),
        expect.objectContaining({ gate: 'build', policy: 'allowed-base-registries', outcome: 'allow' }),
      ]),
    );
    const logs = await cli('logs', build.id, '--server', rt.url);
    expect(logs.out).toContain('[policy-image] ERROR ✗ non-root rule 0 (enforce): the image runs as root; add a USER instruction with a non-root user');
    expect(logs.out).toMatch(/ERROR ✗ build rejected: rejected at the image gate/);
    const follow = await cli('logs', '-f', build.id, '--server', rt.url);
    expect(follow.code).toBe(1);
  });

  it('lets the same build through when the policy is in audit mode, with a warning', async () => {
    const rt = await start(auditDir);
    const sha = repo.commit({ ...servingApp('audit\n', { user: null }), 'again.txt': 'audit' });
    const build = await pushAndWait(rt, sha);
    expect(build).toMatchObject({ state: FINAL_STATE, errorCode: null });
    const api = (await rt.server!.inject({ method: 'GET', url: `/api/v1/builds/${build.id}`, headers: { authorization: `Bearer ${API_TOKEN}` } })).json();
    expect(api.decisions).toEqual(expect.arrayContaining([expect.objectContaining({ gate: 'image', policy: 'non-root', mode: 'audit', outcome: 'warn' })]));
    const logs = await cli('logs', build.id, '--server', rt.url);
    expect(logs.out).toContain('[policy-image] WARN ⚠ non-root rule 0 (audit): the image runs as root');
  });

  it('passes a non-root image through every gate: injected, signed, verified at the promote gate', async () => {
    const rt = await start(resolve('policies'));
    const sha = repo.commit({ ...servingApp(), 'third.txt': 'x' });
    const build = await pushAndWait(rt, sha);
    expect(build).toMatchObject({ state: FINAL_STATE, errorCode: null });
    const api = (await rt.server!.inject({ method: 'GET', url: `/api/v1/builds/${build.id}`, headers: { authorization: `Bearer ${API_TOKEN}` } })).json();
    const promote = api.decisions.filter((d: { gate: string }) => d.gate === 'promote');
    expect(promote.map((d: { rule: number; outcome: string }) => [d.rule, d.outcome])).toEqual([
      [0, 'allow'],
      [1, 'allow'],
      [2, 'allow'],
      [3, 'allow'],
    ]);
    expect(promote[0].subject).toBe(build.digest);
    // What the build ends with is the protected image: the enforcer wraps the entrypoint, by digest.
    const ref = parseImageRef(`127.0.0.1:5000/slipway/rooted@${build.digest}`);
    const facts = await imageFacts(new RegistryClient({ host: ref.registry }), ref);
    expect(facts.config.Entrypoint).toEqual(['/.slipway/enforcer', '--']);
    expect(facts.labels['dev.slipway.enforcer.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(facts.labels['dev.slipway.build']).toBe(build.id);
    // Signed with the key the embedded default generated, verifiable with its public half (as `cosign verify --key` would).
    const pub = loadPublicKey(readFileSync(join(rt.dir, '.slipway', 'cosign.pub')), 'cosign.pub');
    const verified = await verifyImage(new RegistryClient({ host: ref.registry }), ref, [pub]);
    expect(verified).toMatchObject({ verified: true, keyIds: ['cosign.pub'] });
    const logs = await cli('logs', build.id, '--server', rt.url);
    expect(logs.out).toMatch(/\[inject\] injected enforcer .*: \d+ executables in the manifest/);
    expect(logs.out).toMatch(/\[sign\] signed sha256:[0-9a-f]{64} with key sha256:/);
    expect(logs.out).toContain('[policy-promote] signature verified by');
  });

  it('rejects before building when the Dockerfile names a base image from elsewhere', async () => {
    const rt = await start(resolve('policies'));
    const sha = repo.commit({ Dockerfile: 'FROM node:20\nUSER 1000\n', 'fourth.txt': 'x' });
    const build = await pushAndWait(rt, sha);
    expect(build).toMatchObject({ state: 'rejected', digest: null });
    expect(build.errorMessage).toMatch(
      /^rejected at the build gate by 1 rule: allowed-base-registries rule 0: an image the build uses \(FROM, COPY --from, RUN --mount from, or # syntax\) comes from a registry that is not allowed/,
    );
  });

  it('rejects at the build gate a COPY --from an image in a registry that is not allowed, before BuildKit resolves it', async () => {
    const rt = await start(resolve('policies'));
    // 127.0.0.1:5001 is not an allowed registry (and nothing listens there): only the gate can stop this.
    const sha = repo.commit({ Dockerfile: `FROM ${BASE}\nCOPY --from=127.0.0.1:5001/evil/tools:1 /bin/sh /bin/tool\nUSER 1000\n`, 'fifth.txt': 'x' });
    const build = await pushAndWait(rt, sha);
    expect(build).toMatchObject({ state: 'rejected', errorCode: 'SLW_POLICY_REJECTED', digest: null });
    expect(build.errorMessage).toMatch(/^rejected at the build gate by 1 rule: allowed-base-registries rule 0: /);
    const logs = await cli('logs', build.id, '--server', rt.url);
    expect(logs.out).not.toMatch(/load metadata for 127\.0\.0\.1:5001/);
  });
});

describe('the promote gate on signatures (real pipeline)', () => {
  it('rejects a digest signed only by a key it does not trust', async () => {
    const repo = new TestRepo();
    const dir = mkdtempSync(join(tmpdir(), 'slipway-untrusted-'));
    const other = await generateKeyPair('other');
    writeFileSync(join(dir, 'other.pub'), other.publicKeyPem);
    const rt = await startTestRuntime({
      config: {
        policies: resolve('policies'),
        signing: { trustedKeys: [join(dir, 'other.pub')] },
        apps: [{ name: 'untrusted', repo: 'github:octo/untrusted', cloneUrl: repo.bare, branches: { main: 'local' } }],
      },
    });
    try {
      const sha = repo.commit(servingApp());
      const req = signedGithub('push', githubPush({ repo: 'octo/untrusted', commit: sha }), WEBHOOK_SECRET);
      const id = (await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body })).json().builds[0].id as string;
      const build = await waitFor(
        async () => {
          const b = await getBuild(rt.store.db, id);
          return b && ['signed', 'failed', 'rejected'].includes(b.state) ? b : undefined;
        },
        'the build to end',
        60_000,
      );
      expect(build).toMatchObject({ state: 'rejected', errorCode: 'SLW_POLICY_REJECTED' });
      expect(build.errorMessage).toBe(
        'rejected at the promote gate by 1 rule: promote-requirements rule 1: the image digest has no signature from a trusted key (signing.trustedKeys)',
      );
      // It was signed (by Slipway's own key), just not by a trusted one.
      const lines = (await logsAfter(rt.store.db, id)).map((l) => l.line);
      expect(lines.some((l) => /^signed sha256:/.test(l))).toBe(true);
      expect(lines.some((l) => l.startsWith('no signature verified: '))).toBe(true);
    } finally {
      await rt.stop();
      repo.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
