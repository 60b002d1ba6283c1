import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { CosignCli, generateKeyPair } from '../../src/signing/index.js';
import { scratchDir, slipway } from './run-cli.js';

/**
 * cosign cannot be installed here (no Debian package; the npm package named cosign is unrelated), so
 * the wrapper runs against test/signing/stand-in/strict-cosign.mjs: a strict stand-in that checks its
 * argv as cosign v2's CLI would and remembers what it "signed". It proves the wrapper's argv, env,
 * timeout and output parsing, not cosign's cryptography (the other suites prove that against cosign's
 * own vectors).
 */
const STAND_IN = fileURLToPath(new URL('./stand-in/strict-cosign.mjs', import.meta.url));
const IMAGE = `127.0.0.1:5000/slipway-test/app@sha256:${'ab'.repeat(32)}`;
const OTHER = `127.0.0.1:5000/slipway-test/app@sha256:${'cd'.repeat(32)}`;

interface Call {
  argv: string[];
  envNames: string[];
  passwordSha256: string | null;
  cosignRepository: string | null;
}

async function thrown(p: Promise<unknown>) {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('cosign CLI wrapper against a strict stand-in (no cosign here)', () => {
  let scratch: ReturnType<typeof scratchDir>;
  let path: string;
  let keyPath: string;
  let pubPath: string;
  const baseEnv = { PATH: '/usr/bin:/bin', HOME: '/root', SLIPWAY_KEY_PASSWORD: 'pw', UNRELATED_SECRET: 's3cret' };
  const cosign = (timeoutMs = 20_000, env: Record<string, string> = baseEnv) => new CosignCli({ path, timeoutMs, env });
  const calls = (): Call[] =>
    existsSync(join(scratch.dir, 'calls.jsonl'))
      ? readFileSync(join(scratch.dir, 'calls.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Call)
      : [];
  const lastCall = () => calls().at(-1)!;

  beforeAll(async () => {
    scratch = scratchDir('strict-cosign');
    path = join(scratch.dir, 'cosign');
    // The stand-in's state directory is baked into the script: the wrapper passes no STRICT_* variable.
    writeFileSync(path, `#!/bin/sh\nSTRICT_COSIGN_STATE='${scratch.dir}' exec '${process.execPath}' '${STAND_IN}' "$@"\n`);
    chmodSync(path, 0o755);
    const pair = await generateKeyPair('pw');
    keyPath = join(scratch.dir, 'team.key');
    pubPath = join(scratch.dir, 'team.pub');
    writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(pubPath, pair.publicKeyPem);
  });
  afterAll(() => scratch?.cleanup());

  it('is used only when the configured path is an executable', () => {
    expect(CosignCli.available(path)).toBe(true);
    expect(CosignCli.available(join(scratch.dir, 'no-such-cosign'))).toBe(false);
    expect(CosignCli.available(keyPath)).toBe(false); // exists, not executable
    expect(CosignCli.available(undefined)).toBe(false);
  });

  it('version --json', async () => {
    expect(await cosign().version()).toBe('v2.4.1-strict-stand-in');
  });

  it("sign --key: exact argv, password through COSIGN_PASSWORD only, only cosign's variables passed", async () => {
    const result = await cosign().sign(IMAGE, { key: keyPath, password: 'pw', annotations: { team: 'core' } });
    expect(result).toEqual({ image: IMAGE, pushedTo: '127.0.0.1:5000/slipway-test/app', tlogIndex: expect.any(Number) });
    const call = lastCall();
    expect(call.argv).toEqual(['sign', '--yes', '--key', keyPath, '-a', 'team=core', IMAGE]);
    expect(call.passwordSha256).toBe(createHash('sha256').update('pw').digest('hex'));
    expect(call.argv.join(' ')).not.toContain('pw ');
    expect(call.envNames).toEqual(['COSIGN_PASSWORD', 'HOME', 'PATH']);
  });

  it("verify --key: verified with the payloads cosign printed; another key is not, with cosign's reason", async () => {
    const ok = await cosign().verify(IMAGE, { key: pubPath });
    expect(ok.verified).toBe(true);
    expect(ok.payloads[0]?.critical.image['docker-manifest-digest']).toBe(IMAGE.split('@')[1]);
    expect(lastCall().argv).toEqual(['verify', '--output', 'json', '--key', pubPath, IMAGE]);
    const other = await generateKeyPair('x');
    const otherPub = join(scratch.dir, 'other.pub');
    writeFileSync(otherPub, other.publicKeyPem);
    expect(await cosign().verify(IMAGE, { key: otherPub })).toEqual({ verified: false, payloads: [], reason: 'no matching signatures:' });
    expect((await cosign().verify(OTHER, { key: pubPath })).verified).toBe(false);
  });

  it('without a tlog upload, verify needs --insecure-ignore-tlog=true', async () => {
    await cosign().sign(OTHER, { key: keyPath, password: 'pw', tlogUpload: false });
    expect(lastCall().argv).toEqual(['sign', '--yes', '--key', keyPath, '--tlog-upload=false', OTHER]);
    expect(await cosign().verify(OTHER, { key: pubPath })).toMatchObject({
      verified: false,
      reason: 'no matching signatures: signature not found in transparency log',
    });
    expect(await cosign().verify(OTHER, { key: pubPath, insecureIgnoreTlog: true })).toMatchObject({ verified: true });
  });

  it('COSIGN_REPOSITORY carries a signature repository', async () => {
    await cosign().sign(IMAGE, { key: keyPath, password: 'pw', signatureRepository: '127.0.0.1:5000/sigs' });
    expect(lastCall().cosignRepository).toBe('127.0.0.1:5000/sigs');
    expect((await cosign().verify(IMAGE, { key: pubPath, signatureRepository: '127.0.0.1:5000/sigs' })).verified).toBe(true);
  });

  it("keyless: fails without an OIDC token, passes GitHub Actions' OIDC variables through", async () => {
    const err = await thrown(cosign().sign(IMAGE));
    expect(isSlipwayError(err, 'SLW_SIGNING_COSIGN')).toBe(true);
    expect((err as Error).message).toMatch(/cosign sign .* failed \(exit 1\): signing \[.*\]: getting signer: .*no OIDC token/);
    const actionsEnv = { ...baseEnv, ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'tok', GITHUB_ACTIONS: 'true' };
    await cosign(20_000, actionsEnv).sign(IMAGE);
    expect(lastCall().argv).toEqual(['sign', '--yes', IMAGE]);
    expect(lastCall().envNames).toEqual(['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'GITHUB_ACTIONS', 'HOME', 'PATH']);
    const before = calls().length;
    const missing = await thrown(cosign().verify(IMAGE, { certificateIdentity: 'github-actions' }));
    expect(isSlipwayError(missing, 'SLW_SIGNING_COSIGN')).toBe(true);
    expect(calls().length).toBe(before); // refused before running cosign
    const v = await cosign().verify(IMAGE, { certificateIdentity: 'github-actions', certificateOidcIssuer: 'https://token.actions.githubusercontent.com' });
    expect(v.verified).toBe(true);
    expect(lastCall().argv).toEqual([
      'verify',
      '--output',
      'json',
      '--certificate-identity',
      'github-actions',
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      IMAGE,
    ]);
  });

  it('an identity token goes through SIGSTORE_ID_TOKEN, not argv', async () => {
    await cosign().sign(IMAGE, { identityToken: 'eyJ.token.sig' });
    expect(lastCall().argv).toEqual(['sign', '--yes', IMAGE]);
    expect(lastCall().envNames).toContain('SIGSTORE_ID_TOKEN');
  });

  it('refuses a tag before running cosign', async () => {
    const before = calls().length;
    const err = await thrown(cosign().sign('127.0.0.1:5000/slipway-test/app:latest', { key: keyPath }));
    expect(isSlipwayError(err, 'SLW_SIGNING_BY_DIGEST')).toBe(true);
    expect(calls().length).toBe(before);
  });

  it('the stand-in is strict: a flag cosign does not have fails as cosign would', async () => {
    const r = await cosign().run(['sign', '--yes', '--password', 'pw', IMAGE]);
    expect(r).toMatchObject({ code: 1, stderr: 'Error: unknown flag: --password\n' });
    expect((await cosign().run(['sign', '--key', keyPath, IMAGE])).stderr).toMatch(/pass --yes/);
  });

  it('a cosign that hangs is stopped at the timeout (retryable error)', async () => {
    writeFileSync(join(scratch.dir, 'hang'), '');
    try {
      const started = Date.now();
      const err = await thrown(cosign(300).verify(IMAGE, { key: pubPath }));
      expect(isSlipwayError(err, 'SLW_SIGNING_COSIGN_TIMEOUT')).toBe(true);
      expect((err as { retryable: boolean }).retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      rmSync(join(scratch.dir, 'hang'));
    }
  });

  it('a path that cannot run is SLW_SIGNING_COSIGN naming the path', async () => {
    const err = await thrown(new CosignCli({ path: join(scratch.dir, 'missing'), timeoutMs: 1000, env: {} }).version());
    expect(isSlipwayError(err, 'SLW_SIGNING_COSIGN')).toBe(true);
    expect((err as Error).message).toMatch(/could not run cosign at .*missing.*signing\.cosign\.path/);
  });

  it('slipway sign / verify run cosign when signing.cosign.path is configured', async () => {
    writeFileSync(join(scratch.dir, 'slipway.yaml'), `signing:\n  cosign:\n    path: ${path}\n    timeout: 20s\n`);
    const env = { ...baseEnv };
    // relative key paths resolve against slipway's working directory, not cosign's
    const s = await slipway(scratch.dir, ['sign', OTHER, '--key', 'team.key'], env);
    expect(s).toMatchObject({ code: 0, stderr: '' });
    expect(s.stdout).toMatch(/^signed .* with cosign \(key .*team\.key\); signature pushed to 127\.0\.0\.1:5000\/slipway-test\/app; tlog index \d+\n$/);
    expect(lastCall().passwordSha256).toBe(createHash('sha256').update('pw').digest('hex'));
    expect(lastCall().argv).toContain(keyPath);
    const v = await slipway(scratch.dir, ['verify', OTHER, '--key', 'team.pub'], env);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/cosign\s+127\.0\.0\.1:5000\/slipway-test\/app\s+team\.pub\s+verified/);
    const other = await slipway(scratch.dir, ['verify', OTHER, '--key', join(scratch.dir, 'other.pub')], env);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/not verified .*: .*other\.pub: no matching signatures:/);
  });
});
