import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { isSlipwayError } from '../../src/core/errors.js';
import { loadSecretKey, SecretBox, SECRETS_KEY_FILE } from '../../src/secrets/index.js';

/** AES-256-GCM sealing of app secrets and the key that seals them (real files, real crypto). */

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'slipway-secrets-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (isSlipwayError(err)) return err;
    throw err;
  }
  throw new Error('expected a SlipwayError');
};

describe('SecretBox', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));

  it('round-trips a value; the sealed text holds neither the value nor a fixed ciphertext', () => {
    const a = box.seal('web', 'API_KEY', 'hunter2-hunter2');
    const b = box.seal('web', 'API_KEY', 'hunter2-hunter2');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^slw1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('hunter2');
    expect(Buffer.from(a.split(':')[2]!, 'base64url').toString('latin1')).not.toContain('hunter2');
    expect(box.open('web', 'API_KEY', a)).toBe('hunter2-hunter2');
    expect(box.open('web', 'EMPTY', box.seal('web', 'EMPTY', ''))).toBe('');
  });

  it('refuses a value moved to another app or name, changed in the database, or sealed with another key, without echoing it', () => {
    const sealed = box.seal('web', 'API_KEY', 'hunter2-hunter2');
    expect(thrown(() => box.open('other', 'API_KEY', sealed)).message).toMatch(/belongs to another app or name/);
    expect(thrown(() => box.open('web', 'DB_PASSWORD', sealed)).code).toBe('SLW_SECRET_KEY');
    const raw = Buffer.from(sealed.split(':')[2]!, 'base64url');
    raw[14]! ^= 1;
    const tampered = `slw1:${box.keyId}:${raw.toString('base64url')}`;
    expect(thrown(() => box.open('web', 'API_KEY', tampered)).message).toMatch(/does not authenticate/);
    const other = new SecretBox(Buffer.alloc(32, 8));
    const err = thrown(() => other.open('web', 'API_KEY', sealed));
    expect(err.message).toContain(`sealed with key ${box.keyId}, but this process has key ${other.keyId}`);
    expect(thrown(() => box.open('web', 'API_KEY', 'hunter2-hunter2')).message).toMatch(/not a value Slipway sealed/);
    for (const e of [err]) expect(e.message).not.toContain('hunter2');
  });
});

describe('loadSecretKey', () => {
  it('generates <dataDir>/secrets.key with mode 0600 once, and every later load opens what the first sealed', () => {
    const dataDir = join(tempDir(), 'data');
    const first = loadSecretKey({ keyEnv: 'SLIPWAY_SECRETS_KEY', env: {}, dataDir });
    expect(first.generated).toBe(true);
    expect(first.source).toBe(join(dataDir, SECRETS_KEY_FILE));
    expect(statSync(first.source).mode & 0o777).toBe(0o600);
    const sealed = first.box.seal('web', 'K', 'v');
    const again = loadSecretKey({ keyEnv: 'SLIPWAY_SECRETS_KEY', env: {}, dataDir });
    expect(again.generated).toBe(false);
    expect(again.box.open('web', 'K', sealed)).toBe('v');
    // A key file someone made readable by others is narrowed back.
    chmodSync(first.source, 0o644);
    loadSecretKey({ keyEnv: 'SLIPWAY_SECRETS_KEY', env: {}, dataDir });
    expect(statSync(first.source).mode & 0o777).toBe(0o600);
  });

  it('takes the key from secrets.keyEnv (base64 or hex) and refuses one of the wrong size, without printing it', () => {
    const dataDir = tempDir();
    const key = Buffer.alloc(32, 9);
    const fromB64 = loadSecretKey({ keyEnv: 'MY_KEY', env: { MY_KEY: key.toString('base64') }, dataDir });
    const fromHex = loadSecretKey({ keyEnv: 'MY_KEY', env: { MY_KEY: key.toString('hex') }, dataDir });
    expect(fromB64).toMatchObject({ source: '$MY_KEY', generated: false });
    expect(fromHex.box.open('a', 'B', fromB64.box.seal('a', 'B', 'x'))).toBe('x');
    const err = thrown(() => loadSecretKey({ keyEnv: 'MY_KEY', env: { MY_KEY: 'too-short-secret-key' }, dataDir }));
    expect(err.code).toBe('SLW_SECRET_KEY');
    expect(err.message).toContain('$MY_KEY does not hold a 32-byte key');
    expect(err.message).not.toContain('too-short-secret-key');
    writeFileSync(join(dataDir, SECRETS_KEY_FILE), 'garbage\n', { mode: 0o600 });
    expect(thrown(() => loadSecretKey({ keyEnv: 'MY_KEY', env: {}, dataDir })).message).toContain(`${join(dataDir, SECRETS_KEY_FILE)} does not hold`);
    expect(readFileSync(join(dataDir, SECRETS_KEY_FILE), 'utf8')).toBe('garbage\n');
  });
});

describe('apps[].env, apps[].secrets and previews.env in the config', () => {
  const app = (extra: Record<string, unknown>) => ({ name: 'web', repo: 'github:o/web', ...extra });
  it('accepts variables and names of server variables; refuses reserved, invalid and oversized ones naming the path', () => {
    const ok = configSchema.parse({
      apps: [app({ env: { GREETING: 'hi' }, secrets: { API_KEY: 'WEB_API_KEY' }, previews: { target: 'local', env: { MODE: 'preview' } } })],
    });
    expect(ok.apps[0]).toMatchObject({ env: { GREETING: 'hi' }, secrets: { API_KEY: 'WEB_API_KEY' }, previews: { env: { MODE: 'preview' } } });
    expect(ok.secrets.keyEnv).toBe('SLIPWAY_SECRETS_KEY');
    const bad = configSchema.safeParse({
      apps: [app({ env: { PORT: '1', K_SERVICE: 'x', '1BAD': 'x', BIG: 'x'.repeat(40_000) }, secrets: { SLIPWAY_X: 'V', OK: 'not a var name' } })],
    });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^apps\.0\.env\.PORT: PORT is set by the serving target/),
        expect.stringMatching(/^apps\.0\.env\.K_SERVICE: K_SERVICE: K_\* names are set by the serving target/),
        expect.stringMatching(/^apps\.0\.env\.1BAD: "1BAD" is not a variable name/),
        expect.stringMatching(/^apps\.0\.env\.BIG: BIG: the value is longer than 32768 bytes/),
        expect.stringMatching(/^apps\.0\.secrets\.SLIPWAY_X: SLIPWAY_X: SLIPWAY_\* names are set by Slipway itself/),
        expect.stringMatching(/^apps\.0\.secrets\.OK: name an environment variable of the server/),
      ]),
    );
  });
});
