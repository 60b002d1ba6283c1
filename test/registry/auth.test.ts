import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { RegistryAuth } from '../../src/registry/index.js';

/** test/helpers/bin holds docker-credential-slipwaytest, a real helper program speaking Docker's protocol. */
export const HELPER_BIN = resolve(import.meta.dirname, '../helpers/bin');

const root = mkdtempSync(join(tmpdir(), 'slipway-regauth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A DOCKER_CONFIG directory with this config.json, and a store file for the test helper. */
function dockerConfig(config: unknown, store: Record<string, { Username: string; Secret: string }> = {}) {
  const dir = join(root, randomBytes(4).toString('hex'));
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'store.json'), JSON.stringify(store));
  const log = join(dir, 'calls.log');
  return {
    dir,
    log,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    env: {
      DOCKER_CONFIG: dir,
      PATH: `${HELPER_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      SLIPWAY_TEST_CRED_STORE: join(dir, 'store.json'),
      SLIPWAY_TEST_CRED_LOG: log,
    },
  };
}

const failure = async (p: Promise<unknown>, message?: RegExp) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSlipwayError(err)).toBe(true);
  expect((err as { code: string }).code).toBe('SLW_REGISTRY_AUTH');
  if (message) expect((err as Error).message).toMatch(message);
  return err as Error;
};

describe('RegistryAuth: where registry credentials come from', () => {
  it('takes registries.<host> of the configuration first, the password from the variable it names', async () => {
    const cfg = dockerConfig({ auths: { 'ghcr.io': { auth: Buffer.from('docker-user:docker-pass').toString('base64') } } });
    const auth = new RegistryAuth({
      registries: { 'ghcr.io': { username: 'octo', passwordEnv: 'GHCR_TOKEN' } },
      env: { ...cfg.env, GHCR_TOKEN: 'ghp_secret' },
    });
    expect(await auth.credentialsFor('ghcr.io')).toEqual({ username: 'octo', password: 'ghp_secret' });
    expect(auth.describe('ghcr.io')).toBe('credentials from registries."ghcr.io" of the configuration');
    expect(auth.describe('ghcr.io')).not.toContain('ghp_secret');
  });

  it('refuses a configured registry whose password variable is unset, naming the variable', async () => {
    const auth = new RegistryAuth({ registries: { 'ghcr.io': { username: 'octo', passwordEnv: 'GHCR_TOKEN' } }, env: {} });
    await failure(auth.credentialsFor('ghcr.io'), /GHCR_TOKEN, which is not set/);
  });

  it.each([
    [
      'a base64 auth entry',
      { auths: { '127.0.0.1:5001': { auth: Buffer.from('alice:pa:ss').toString('base64') } } },
      '127.0.0.1:5001',
      { username: 'alice', password: 'pa:ss' },
    ],
    [
      'username and password under an https:// key',
      { auths: { 'https://ghcr.io': { username: 'u', password: 'p' } } },
      'ghcr.io',
      { username: 'u', password: 'p' },
    ],
    [
      "Docker Hub's legacy key",
      { auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('d:h').toString('base64') } } },
      'docker.io',
      { username: 'd', password: 'h' },
    ],
    [
      'an identity token',
      { auths: { 'r.example': { identitytoken: 'refresh-me' } } },
      'r.example',
      { username: '', password: '', identityToken: 'refresh-me' },
    ],
    ['no entry for the host', { auths: { other: { username: 'u', password: 'p' } } }, 'example.com', undefined],
  ])("reads Docker's config.json: %s", async (_name, config, host, expected) => {
    const cfg = dockerConfig(config);
    expect(await new RegistryAuth({ env: cfg.env }).credentialsFor(host)).toEqual(expected);
  });

  it('falls back to ~/.docker/config.json without DOCKER_CONFIG, and to anonymous without a file', async () => {
    const home = join(root, `home-${randomBytes(3).toString('hex')}`);
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'r.example': { username: 'u', password: 'p' } } }));
    const auth = new RegistryAuth({ env: { HOME: home } });
    expect(auth.dockerConfigPath).toBe(join(home, '.docker', 'config.json'));
    expect(await auth.credentialsFor('r.example')).toEqual({ username: 'u', password: 'p' });
    expect(await new RegistryAuth({ env: { DOCKER_CONFIG: join(root, 'absent') } }).credentialsFor('r.example')).toBeUndefined();
  });

  it('runs the credHelpers entry for the host as Docker does (server address on stdin), once per host', async () => {
    const cfg = dockerConfig(
      { credHelpers: { 'ghcr.io': 'slipwaytest' }, auths: { 'ghcr.io': { username: 'stale', password: 'stale' } } },
      { 'ghcr.io': { Username: 'octo', Secret: 'from-helper' } },
    );
    const auth = new RegistryAuth({ env: cfg.env });
    expect(await auth.credentialsFor('ghcr.io')).toEqual({ username: 'octo', password: 'from-helper' });
    expect(await auth.credentialsFor('ghcr.io')).toEqual({ username: 'octo', password: 'from-helper' });
    expect(cfg.calls()).toEqual(['ghcr.io']);
    expect(auth.describe('ghcr.io')).toContain('docker-credential-slipwaytest (credHelpers in');
  });

  it("asks Docker Hub's helper for its legacy index address, and reads <token> as an identity token", async () => {
    const cfg = dockerConfig({ credsStore: 'slipwaytest' }, { 'https://index.docker.io/v1/': { Username: '<token>', Secret: 'identity' } });
    expect(await new RegistryAuth({ env: cfg.env }).credentialsFor('docker.io')).toEqual({ username: '', password: '', identityToken: 'identity' });
    expect(cfg.calls()).toEqual(['https://index.docker.io/v1/']);
  });

  it('uses auths when the credsStore has nothing for the host', async () => {
    const cfg = dockerConfig({ credsStore: 'slipwaytest', auths: { 'r.example': { username: 'u', password: 'p' } } });
    expect(await new RegistryAuth({ env: cfg.env }).credentialsFor('r.example')).toEqual({ username: 'u', password: 'p' });
  });

  it('says which helper is missing instead of going anonymous', async () => {
    const cfg = dockerConfig({ credHelpers: { 'gcr.io': 'gcloud-absent' } });
    await failure(new RegistryAuth({ env: cfg.env }).credentialsFor('gcr.io'), /docker-credential-gcloud-absent, which is not on the PATH/);
  });

  it('kills a helper that does not answer within the timeout', async () => {
    const cfg = dockerConfig({ credHelpers: { 'r.example': 'slipwaytest' } });
    const auth = new RegistryAuth({ env: { ...cfg.env, SLIPWAY_TEST_CRED_HANG: '1' }, helperTimeoutMs: 500 });
    await failure(auth.credentialsFor('r.example'), /did not answer for r\.example within 500 ms/);
  });

  it('refuses a helper name that is not a plain program name (no path, no shell)', async () => {
    const cfg = dockerConfig({ credHelpers: { 'r.example': '../../bin/sh -c id' } });
    await failure(new RegistryAuth({ env: cfg.env }).credentialsFor('r.example'), /not a plain program name/);
  });

  it('never repeats a malformed config.json in its error (it holds secrets)', async () => {
    const dir = join(root, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), '{"auths": {"r.example": {"password": "hunter2-secret"');
    const err = await failure(new RegistryAuth({ env: { DOCKER_CONFIG: dir } }).credentialsFor('r.example'), /is not a JSON object/);
    expect(err.message).not.toContain('hunter2');
  });
});
