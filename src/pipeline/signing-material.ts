import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { SlipwayConfig } from '../config/index.js';
import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../log/index.js';
import { generateKeyPair, loadPrivateKey, loadPublicKey, type SigningKey, type TrustedKey } from '../signing/index.js';

/** The key the sign stage signs with and the keys the promote gate trusts, loaded once at start. */
export interface SigningMaterial {
  key: SigningKey;
  trusted: TrustedKey[];
}

const DEFAULT_KEY = '.slipway/cosign.key';

/**
 * Loads (and, for the embedded default only, creates) the signing key. Production names a key and an
 * environment variable holding its password (`signing.passwordEnv`); a missing key or password fails
 * start-up with what to do. `slipway up` with no configuration generates `.slipway/cosign.key` and
 * `.slipway/cosign.pub` on first start; when the password variable is unset it generates a password
 * too and keeps it in `.slipway/cosign.password` (mode 0600, beside the key in Slipway's own data
 * directory, never in a repository) so the default works without setup.
 */
export async function loadSigningMaterial(
  config: SlipwayConfig,
  env: Record<string, string | undefined>,
  cwd: string,
  logger: Logger,
): Promise<SigningMaterial> {
  const keyPath = resolve(cwd, config.signing.key);
  const passwordFile = resolve(dirname(keyPath), 'cosign.password');
  const isDefault = config.signing.key === DEFAULT_KEY;
  let password = env[config.signing.passwordEnv];
  if (password === undefined && isDefault && existsSync(passwordFile)) password = readFileSync(passwordFile, 'utf8').trim();

  if (!existsSync(keyPath)) {
    if (!isDefault) {
      throw new SlipwayError(
        'SLW_SIGNING_KEY_INVALID',
        `signing.key ${keyPath} does not exist; create one with \`slipway keys generate\` (password in $${config.signing.passwordEnv}) or point signing.key at it`,
      );
    }
    if (password === undefined) {
      password = randomBytes(24).toString('base64url');
      mkdirSync(dirname(passwordFile), { recursive: true });
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    }
    const pair = await generateKeyPair(password);
    mkdirSync(dirname(keyPath), { recursive: true });
    writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(resolve(dirname(keyPath), 'cosign.pub'), pair.publicKeyPem);
    logger.info({ key: keyPath }, 'generated a signing key pair for the embedded default (set signing.key and signing.passwordEnv in production)');
  }
  if (password === undefined) {
    throw new SlipwayError(
      'SLW_SIGNING_PASSWORD_MISSING',
      `the password of ${keyPath} is not set: put it in the environment variable ${config.signing.passwordEnv} (signing.passwordEnv)`,
    );
  }
  const key = await loadPrivateKey(readFileSync(keyPath), password, keyPath);
  const trusted = config.signing.trustedKeys.map((path) => {
    const file = resolve(cwd, path);
    if (!existsSync(file)) throw new SlipwayError('SLW_SIGNING_KEY_INVALID', `trusted key ${file} (signing.trustedKeys) does not exist`);
    return loadPublicKey(readFileSync(file), path);
  });
  if (!trusted.some((t) => t.fingerprint === key.publicKey.fingerprint)) {
    logger.warn({ key: keyPath }, 'the signing key is not among signing.trustedKeys: the promote gate will not trust what this Slipway signs');
  }
  return { key, trusted };
}
