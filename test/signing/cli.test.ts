import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushSyntheticImage, type SyntheticImage } from '../helpers/images.js';
import { scratchDir, slipway } from './run-cli.js';

const PASSWORD = 'cli-test-password';
const ENV = { SLIPWAY_KEY_PASSWORD: PASSWORD };

describe('slipway keys generate / sign / verify, end to end (real registry)', () => {
  let scratch: ReturnType<typeof scratchDir>;
  let image: SyntheticImage;
  const cwd = () => scratch.dir;

  beforeAll(async () => {
    scratch = scratchDir('signing-cli');
    image = await pushSyntheticImage({}, 128);
  });
  afterAll(() => scratch?.cleanup());

  it('keys generate without a password (no env, no terminal) fails saying which variable to set', async () => {
    const r = await slipway(cwd(), ['keys', 'generate', '--dir', 'nopw']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/set the environment variable SLIPWAY_KEY_PASSWORD .*SLW_SIGNING_PASSWORD_MISSING/);
  });

  it('keys generate writes cosign.key (0600, encrypted) and cosign.pub, and never overwrites them', async () => {
    const r = await slipway(cwd(), ['keys', 'generate', '--dir', '.slipway'], ENV);
    expect(r).toMatchObject({ code: 0, stdout: 'Private key written to .slipway/cosign.key\nPublic key written to .slipway/cosign.pub\n' });
    const key = join(cwd(), '.slipway/cosign.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    expect(readFileSync(key, 'utf8')).not.toContain(PASSWORD);
    const before = readFileSync(key);
    const again = await slipway(cwd(), ['keys', 'generate', '--dir', '.slipway'], ENV);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/\.slipway\/cosign\.key already exists; refusing to overwrite.*SLW_SIGNING_KEY_EXISTS/);
    expect(readFileSync(key).equals(before)).toBe(true);
  });

  it('keys generate takes the password from the variable signing.passwordEnv names', async () => {
    const dir = scratchDir('signing-cli-env');
    try {
      writeFileSync(join(dir.dir, 'slipway.yaml'), 'signing:\n  passwordEnv: TEAM_KEY_PW\n  key: cosign.key\n');
      expect((await slipway(dir.dir, ['keys', 'generate'], ENV)).code).toBe(1);
      expect((await slipway(dir.dir, ['keys', 'generate'], { TEAM_KEY_PW: 'x' })).code).toBe(0);
      expect((await slipway(dir.dir, ['sign', image.ref], { TEAM_KEY_PW: 'x' })).code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it('sign (default key signing.key) then verify --key: exit 0 with a table naming the key', async () => {
    const signed = await slipway(cwd(), ['sign', image.ref], ENV);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(
      new RegExp(`^signed ${image.ref.replace(/[.]/g, '\\.')}\nsignature .*:sha256-[a-f0-9]{64}\\.sig \\(\\d+ signatures?, manifest sha256:[a-f0-9]{64}\\)\n$`),
    );
    const v = await slipway(cwd(), ['verify', image.ref, '--key', '.slipway/cosign.pub'], ENV);
    expect(v.code).toBe(0);
    const lines = v.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SIGNATURE\s+IDENTITY\s+KEY\s+RESULT$/);
    expect(v.stdout).toMatch(/sha256:[a-f0-9]{12}\s+127\.0\.0\.1:5000\/slipway-test\/\S+\s+\.slipway\/cosign\.pub\s+verified/);
    expect(lines.at(-1)).toBe(`verified ${image.ref}: signed by .slipway/cosign.pub`);
  });

  it('verify without --key uses signing.trustedKeys; --json prints the result', async () => {
    const v = await slipway(cwd(), ['verify', image.ref, '--json'], ENV);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ image: image.ref, verified: true, keyIds: ['.slipway/cosign.pub'], signer: 'slipway' });
  });

  it('verify with a key that did not sign: exit 1, saying why', async () => {
    expect((await slipway(cwd(), ['keys', 'generate', '--dir', 'other'], ENV)).code).toBe(0);
    const v = await slipway(cwd(), ['verify', image.ref, '--key', 'other/cosign.pub'], ENV);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/-\s+the signature does not verify with any trusted key \(tried other\/cosign\.pub\)/);
    expect(v.stdout).toMatch(/^not verified /m);
  });

  it('refuses a tag for sign and verify (usage error, exit 2)', async () => {
    for (const cmd of [
      ['sign', image.tagRef],
      ['verify', image.tagRef, '--key', '.slipway/cosign.pub'],
    ]) {
      const r = await slipway(cwd(), cmd, ENV);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/refusing to (sign|verify) .*:v1: name the image by digest/);
    }
  });

  it('a wrong password fails signing without echoing either password', async () => {
    const r = await slipway(cwd(), ['sign', image.ref], { SLIPWAY_KEY_PASSWORD: 'not-the-password' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SLW_SIGNING_KEY_PASSWORD/);
    expect(r.stderr + r.stdout).not.toMatch(/not-the-password|cli-test-password/);
  });

  it('two `slipway sign` with different keys at once: both signatures are kept and verify', async () => {
    const target = await pushSyntheticImage({}, 128);
    const [a, b] = await Promise.all([slipway(cwd(), ['sign', target.ref], ENV), slipway(cwd(), ['sign', target.ref, '--key', 'other/cosign.key'], ENV)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const v = await slipway(cwd(), ['verify', target.ref, '--key', '.slipway/cosign.pub', '--key', 'other/cosign.pub', '--json'], ENV);
    expect(JSON.parse(v.stdout).keyIds.sort()).toEqual(['.slipway/cosign.pub', 'other/cosign.pub']);
  });
});
